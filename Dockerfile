# swarmd — build: docker build -t swarmd .
#          run:   docker run -p 9500:9500 -p 9501:9501 -v swarmd-data:/data -e SWARMD_AUTH_TOKENS=name:write:long-secret swarmd
# Every step below is a step of scripts/image-steps.sh, which CI also runs on the host (`verify`), so this file cannot
# drift from what is tested. The image listens on 0.0.0.0: protected mode makes it refuse to start without tokens
# unless SWARMD_PROTECTED=0 says its network is private (see docker-compose.yml).

FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/image-steps.sh scripts/
RUN sh scripts/image-steps.sh install
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY scripts scripts
RUN sh scripts/image-steps.sh build
RUN sh scripts/image-steps.sh prune

FROM node:20-bookworm-slim
ENV NODE_ENV=production SWARMD_BIND=0.0.0.0 SWARMD_DB=/data/swarmd.db MCP_TCP_PORT=9500 SWARMD_HTTP_PORT=9501
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/scripts/image-steps.sh /app/scripts/example-worker.mjs /app/scripts/example-worker-usage.mjs scripts/
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 9500 9501
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["sh", "scripts/image-steps.sh", "probe"]
CMD ["sh", "scripts/image-steps.sh", "start"]
