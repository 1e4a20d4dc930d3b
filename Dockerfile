# Dockerfile — the Switchboard node image: built on Debian 12 with the same
# Debian packages as scripts/lib/common.sh, run from debian:12-slim with the
# binary, its shared libraries, its config and the demo app only, as a
# non-root user. No secrets are baked in (keys come from the environment).

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config libcaf-dev libboost1.81-dev \
      libhiredis-dev libpqxx-dev libspdlog-dev libssl-dev libcrypt-dev \
      nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build --target switchboard \
 && strip build/switchboard
# The demo app, when present (served at /).
RUN if [ -f web/package.json ]; then \
      (cd clients/js && npm ci && npm run build) && (cd web && npm ci && npm run build); \
    else mkdir -p web/dist; fi

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcaf-core0.17 libhiredis0.14 libpqxx-6.4 libspdlog1.10 libfmt9 libpq5 \
      libssl3 libcrypt1 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /opt/switchboard --shell /usr/sbin/nologin switchboard
WORKDIR /opt/switchboard
COPY --from=build /src/build/switchboard /usr/local/bin/switchboard
COPY --from=build /src/config/switchboard.ini config/switchboard.ini
COPY --from=build /src/web/dist web/dist
USER switchboard
ENV SB_HTTP_HOST=0.0.0.0 SB_HTTP_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=2s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
# SIGTERM drains (clients told 1001, in-flight requests finished) in < 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/switchboard", "--config=/opt/switchboard/config/switchboard.ini"]
