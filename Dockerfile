# octoscope in a container: `octoscope serve` with its config and database in the /data volume.
# See README.md, "Docker". Build from the repository root:  docker build -t octoscope .
# (Written and checked by reading only: no Docker engine ran where this was made.)

FROM python:3.11-slim AS build
RUN pip install --no-cache-dir "uv>=0.5,<1"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
# The wheel, and the exact dependency versions of uv.lock.
RUN uv build --wheel --out-dir /dist \
 && uv export --frozen --no-dev --no-emit-project --no-hashes -o /dist/requirements.txt

FROM python:3.11-slim
COPY --from=build /dist /dist
RUN pip install --no-cache-dir -r /dist/requirements.txt \
 && pip install --no-cache-dir --no-deps /dist/*.whl \
 && rm -rf /dist \
 && useradd --system --uid 10001 --home-dir /data octoscope \
 && mkdir /data && chown octoscope /data && chmod 700 /data
USER octoscope
ENV HOME=/data \
    OCTOSCOPE_CONFIG=/data/config.toml \
    OCTOSCOPE_DB=/data/octoscope.db \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 8000
# Inside the container it listens on every interface so that a published port reaches it; serve then
# requires OCTOSCOPE_WEB_TOKEN (16 characters or more). Publish the port on 127.0.0.1 only (compose.yaml).
CMD ["octoscope", "serve", "--host", "0.0.0.0", "--port", "8000"]
