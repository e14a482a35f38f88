# canary_exporter container image (like prom/blackbox-exporter: the binary
# as ENTRYPOINT, the config file as CMD, so `docker run IMAGE --flag` works).
#
#   docker build -t canary-exporter:0.1.0 .
#   docker run --rm -p 9427:9427 canary-exporter:0.1.0
#   docker run --rm canary-exporter:0.1.0 probe --module=http_2xx https://example.com/
#
# Build stage: Debian 12 with the -dev packages, installed by the same
# scripts/setup.sh the README uses (so CI exercises it). Runtime stage:
# Debian 12 slim with only scripts/runtime-packages.txt, run as a non-root
# user. tests/e2e/dockerfile_test.sh checks this structure.

FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCANARY_BUILD_TESTS=OFF \
    && cmake --build /build --target canary_exporter \
    && strip /build/canary_exporter \
    && /build/canary_exporter --config.dump-default > /config.toml \
    && /build/canary_exporter --config.check --config.file=/config.toml

FROM debian:12-slim
COPY scripts/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && grep -v '^#' /tmp/runtime-packages.txt \
       | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
    && groupadd --system --gid 65532 canary \
    && useradd --system --uid 65532 --gid canary --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin canary
COPY --from=build /build/canary_exporter /bin/canary_exporter
COPY --from=build /config.toml /etc/canary_exporter/config.toml
USER 65532:65532
EXPOSE 9427
ENTRYPOINT ["/bin/canary_exporter"]
CMD ["--config.file=/etc/canary_exporter/config.toml"]
