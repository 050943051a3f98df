"""Django's Redis cache, made to degrade instead of failing the request when Redis is unreachable.

The cache holds nothing a page cannot do without: rate-limit counters (csplatform.security.ratelimit) and
values that can be recomputed. Sessions and login lockouts live in PostgreSQL. So while Redis is down a read
is a miss, a write is dropped, and `incr` answers as for a missing key (the rate limiter then starts a fresh
count, i.e. limits are open until Redis is back). Short socket timeouts (settings CACHES OPTIONS) bound the
first failure; the breaker (csplatform.outage) skips Redis for the following seconds.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from csplatform.outage import Breaker

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
COOLDOWN_SECONDS = 15


class _Unavailable(Exception):
    pass


class TolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.breaker = Breaker("The cache (Redis)", cooldown=COOLDOWN_SECONDS)

    def _try(self, call, *args, **kwargs):
        if self.breaker.is_open():
            raise _Unavailable
        try:
            result = call(*args, **kwargs)
        except UNREACHABLE as error:
            self.breaker.failed(error)
            raise _Unavailable from error
        self.breaker.succeeded()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._try(super().add, key, value, timeout, version)
        except _Unavailable:
            return False

    def get(self, key, default=None, version=None):
        try:
            return self._try(super().get, key, default, version)
        except _Unavailable:
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            self._try(super().set, key, value, timeout, version)
        except _Unavailable:
            pass

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._try(super().touch, key, timeout, version)
        except _Unavailable:
            return False

    def delete(self, key, version=None):
        try:
            return self._try(super().delete, key, version)
        except _Unavailable:
            return False

    def get_many(self, keys, version=None):
        try:
            return self._try(super().get_many, keys, version)
        except _Unavailable:
            return {}

    def has_key(self, key, version=None):
        try:
            return self._try(super().has_key, key, version)
        except _Unavailable:
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return self._try(super().incr, key, delta, version)
        except _Unavailable:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)") from None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._try(super().set_many, data, timeout, version)
        except _Unavailable:
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            self._try(super().delete_many, keys, version)
        except _Unavailable:
            pass

    def clear(self):
        try:
            return self._try(super().clear)
        except _Unavailable:
            return False
