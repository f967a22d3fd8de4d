# syntax=docker/dockerfile:1
# Builds the `staffroom` and `provider-sim` binaries and ships them on a slim
# Debian image.
#   docker build -t staffroom .
#   docker run --rm -p 8080:8080 staffroom serve --demo --listen 0.0.0.0:8080 \
#     --public-url http://localhost:8080
# `serve` on 0.0.0.0 needs the public URL (STAFFROOM_PUBLIC_URL): invitation links
# start with it. The default command below assumes the container's port 8080 is
# published as localhost:8080.

FROM rust:1-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Cache mounts keep the crate registry and target/ between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p staffroom-api --bin staffroom \
       -p staffroom-connectors --bin provider-sim \
 && install -m 0755 target/release/staffroom target/release/provider-sim /usr/local/bin/

FROM debian:bookworm-slim
# libpq5: Diesel's PostgreSQL backend links libpq.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/staffroom staffroom \
 && install -d -o staffroom -g staffroom /var/lib/staffroom
COPY --from=builder /usr/local/bin/staffroom /usr/local/bin/provider-sim /usr/local/bin/
# Embedded SQLite database and generated JWT secret live here when no
# PostgreSQL URL is given; mount a volume to keep them.
ENV STAFFROOM_DATA_DIR=/var/lib/staffroom
WORKDIR /var/lib/staffroom
USER staffroom
EXPOSE 8080 9090
# The image has no curl: the binary checks its own readiness.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s \
  CMD ["staffroom", "healthcheck", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["staffroom"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--public-url", "http://localhost:8080"]
