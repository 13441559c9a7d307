# kilo in a container, built from the lockfile (npm ci): the engine runs headless, its home is a
# volume, and every other command runs beside it with `docker exec`.
#
#   docker build -t kilo .
#   docker run -d --name kilo --init -v kilo-home:/home/node/kilo kilo        # setup: see below
#   docker exec kilo kilo status            # status, positions, trades, logs -f, stop, history
#   docker exec -it kilo kilo attach        # the console on the running engine; q detaches
#   docker stop kilo                        # SIGTERM: state flushed, exit 0
#
# Without a config.yaml in the volume the engine runs on the defaults (the offline simulator).
# Write one first with `docker run --rm -it -v kilo-home:/home/node/kilo kilo setup`.
# The working directory is the home, so `kilo` needs no --home inside the container.

FROM node:20-bookworm-slim AS build
# A C compiler for the native kernels built by postinstall (Node's headers ship in this image).
# Without it kilo still runs: training falls back to the wasm / TypeScript paths.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kilo
# The lockfile first: the dependency layer is rebuilt only when it changes.
COPY package.json package-lock.json ./
COPY native ./native
RUN npm ci --omit=dev --no-audit --no-fund
# The sources run through tsx (a dependency), as from a clone: no separate build step.
COPY tsconfig.json config.example.yaml ./
COPY bin ./bin
COPY src ./src
COPY tui ./tui

FROM node:20-bookworm-slim
COPY --from=build /opt/kilo /opt/kilo
RUN ln -s /opt/kilo/bin/kilo.js /usr/local/bin/kilo \
 && mkdir -p /home/node/kilo \
 && chown node:node /home/node/kilo
USER node
WORKDIR /home/node/kilo
VOLUME /home/node/kilo
STOPSIGNAL SIGTERM
ENTRYPOINT ["kilo"]
CMD ["run", "--headless"]
