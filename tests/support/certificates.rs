//! A throwaway certificate authority for the TLS tests: the server gets a
//! certificate for `localhost` signed by it; a second, unrelated CA lets
//! tests check that verification really fails.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// PEM texts of a CA and of a server certificate it signed.
pub struct TestPki {
    pub ca_pem: String,
    pub other_ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate")
}

/// Generates the CAs and the server certificate.
pub fn generate() -> TestPki {
    let ca = new_ca("schemactl test CA");
    let other = new_ca("some other CA");
    let server_key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_cert = params
        .signed_by(&server_key, &ca)
        .expect("server certificate");
    TestPki {
        ca_pem: ca.pem(),
        other_ca_pem: other.pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
    }
}
