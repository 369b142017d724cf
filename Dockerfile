# syntax=docker/dockerfile:1
# Three stages: the web client (Node), the server (Rust, --locked), and a slim non-root runtime.
# Every command here is also run by CI (.ci/run): npm ci, npm run build, cargo build --release --locked.

FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY openapi ./openapi
COPY web-client/package.json web-client/package-lock.json ./web-client/
RUN npm --prefix web-client ci
COPY web-client ./web-client
RUN npm --prefix web-client run build

FROM rust:1.95-bookworm AS server
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY api ./api
COPY migrations ./migrations
# Cargo.toml names the test and benchmark targets; they are not built here.
COPY tests ./tests
RUN cargo build --release --locked --bin chat-server

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/chat --create-home chat
COPY --from=server /src/target/release/chat-server /usr/local/bin/chat-server
COPY --from=web /src/web-client/dist /usr/share/chat/web
USER chat
WORKDIR /var/lib/chat
ENV CHAT_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/chat/chat.db \
    CHAT_DATA_DIR=/var/lib/chat \
    CHAT_WEB_DIR=/usr/share/chat/web \
    RUST_LOG=info
EXPOSE 8080
VOLUME ["/var/lib/chat"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["chat-server"]
