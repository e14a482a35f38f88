# canary_exporter container image (like prom/blackbox-exporter: the binary
# is the ENTRYPOINT, so `docker run IMAGE --flag` passes flags to it).
#
#   docker build --build-arg CANARY_REVISION=$(git rev-parse --short=12 HEAD) \
#       -t canary-exporter:0.1.0 .
#   docker run --rm -p 9427:9427 canary-exporter:0.1.0
#   docker run --rm -p 9427:9427 canary-exporter:0.1.0 --log.level=debug
#   docker run --rm canary-exporter:0.1.0 probe --module=http_2xx https://example.com/
#
# Build stage: Debian 12 with the -dev packages, installed by the same
# scripts/setup.sh the README uses (so CI exercises it). Runtime stage:
# Debian 12 slim with only scripts/runtime-packages.txt, run as a non-root
# user. tests/e2e/dockerfile_test.sh checks this structure;
# tests/e2e/docker_image_test.sh builds and runs the image.

FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# .git is not in the build context (.dockerignore): the revision that
# canary_exporter_build_info reports comes in as a build arg. Declared here,
# after the package layer, so a new revision does not reinstall packages.
ARG CANARY_REVISION=""
# -O2 as in RelWithDebInfo, without -g: the binary is stripped anyway, so
# debug info would only cost compile time.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCANARY_BUILD_TESTS=OFF \
        -DCANARY_REVISION="${CANARY_REVISION}" \
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
# The config file is the default of --config.file through the environment,
# not a CMD: any flags given to `docker run` (which replace CMD) keep it, and
# an explicit --config.file still wins.
ENV CANARY_CONFIG_FILE=/etc/canary_exporter/config.toml
USER 65532:65532
EXPOSE 9427
# The runtime image has no curl: the binary checks its own /-/healthy on
# loopback port 9427 (a server moved to another port needs --health-cmd).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
    CMD ["/bin/canary_exporter", "healthcheck"]
ENTRYPOINT ["/bin/canary_exporter"]
