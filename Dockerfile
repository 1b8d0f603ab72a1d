# Build stage: compile the release binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml build.rs ./
# .cargo/config.toml sets SQLX_OFFLINE: queries are checked against .sqlx, no database needed.
COPY .cargo ./.cargo
COPY .sqlx ./.sqlx
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY content ./content
RUN cargo build --release --locked

# Run stage: the binary (content built in) and curl for the health check.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/target/release/mockloop /usr/local/bin/mockloop
ENV MOCKLOOP_BIND=0.0.0.0:3000 \
    MOCKLOOP_LOG_FORMAT=json
USER nobody
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:3000/readyz || exit 1
CMD ["mockloop", "serve"]
