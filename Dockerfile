# Switchyard node image: built from this repository, run as a non-root user.
#
#   docker build -t switchyard .
#   docker run -p 3000:3000 switchyard          # one node on the in-process bus
#
# Configure it only through SWITCHYARD_* variables (README, "Configuration").
# The image runs the bridge app, which passes client events to back-ends
# over NATS; SWITCHYARD_APP=echo runs the reference app instead.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p switchyard-node \
 && cp target/release/switchyard /usr/local/bin/switchyard

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home switchyard
COPY --from=build /usr/local/bin/switchyard /usr/local/bin/switchyard
USER switchyard
ENV SWITCHYARD_LISTEN=0.0.0.0:3000 \
    SWITCHYARD_APP=bridge
EXPOSE 3000
# HEAD /health over bash's /dev/tcp: the image needs no HTTP client.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/3000 && printf 'HEAD /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/switchyard"]
