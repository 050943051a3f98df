FROM node:20-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && mkdir -p vendor && cp node_modules/chart.js/dist/chart.umd.js node_modules/chart.js/dist/chart.umd.js.map vendor/

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY . .
COPY --from=frontend /build/vendor/ static/vendor/
RUN pip install --no-cache-dir .
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "csplatform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
