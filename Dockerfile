# schemactl in a container: `docker build -t schemactl .`, then
# `docker run --rm -e DATABASE_URL -v "$PWD:/work" schemactl migrate`.
# The final image carries pg_dump/pg_restore (PostgreSQL 17 by default,
# `--build-arg PG_MAJOR=18` from PostgreSQL's own apt repository) for
# `schemactl backup`, and runs as an unprivileged user.

FROM rust:1-trixie AS build
WORKDIR /src
COPY . .
# SCHEMACTL_COMMIT names the commit in `schemactl --version` when .git is
# not in the build context.
ARG SCHEMACTL_COMMIT=unknown
ENV SCHEMACTL_COMMIT=${SCHEMACTL_COMMIT}
RUN cargo build --release --locked --package schemactl-cli --bin schemactl

FROM debian:trixie-slim
ARG PG_MAJOR=17
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Not pinned to Debian package versions: a stable release replaces them with
# security fixes, and a pinned version would stop the image from building.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && if [ "$PG_MAJOR" != 17 ]; then \
      install -d /usr/share/postgresql-common/pgdg \
      && curl -fsSLo /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
      && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt trixie-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
      && apt-get update; \
    fi \
 && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
 && apt-get purge -y curl && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /work schemactl
# The real programs first, not Debian's version-choosing wrapper.
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH
COPY --from=build /src/target/release/schemactl /usr/local/bin/schemactl
USER 10001
WORKDIR /work
ENTRYPOINT ["schemactl"]
CMD ["--help"]
