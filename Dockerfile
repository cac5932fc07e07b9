# syntax=docker/dockerfile:1
# eksync's image: `docker build -t REGISTRY/eksync:TAG .`, then set it in deploy/base/kustomization.yaml.
#
# The binary links OpenSSL (libssl3/libcrypto, for git2's HTTPS and SSH) and glibc dynamically;
# libgit2 and libssh2 are built into it, and zlib too (LIBZ_SYS_STATIC=1), so the runtime needs only
# what gcr.io/distroless/cc-debian12 ships (glibc, libgcc, libssl3, CA certificates).

FROM rust:1-bookworm AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV LIBZ_SYS_STATIC=1 CARGO_INCREMENTAL=0
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin eksync \
 && install -D -m 0755 target/release/eksync /out/eksync \
 && ldd /out/eksync \
 && if ldd /out/eksync | grep -Ev 'linux-vdso|ld-linux|lib(c|m|dl|rt|pthread|gcc_s|ssl|crypto)\.so' | grep -q '=>'; then \
      echo "eksync links a library the runtime image does not have" >&2; exit 1; \
    fi

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/eksync /usr/local/bin/eksync
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/eksync"]
CMD ["agent"]
