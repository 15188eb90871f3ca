-- wrk script: GET the path in the environment variable P (a handoff code's URL path, a lookup, or
-- nginx's file); HTTP/1.1 keep-alive. Prints one RESULT line like lookup.lua.
local p = os.getenv("P") or "/"
request = function() return wrk.format("GET", p) end
done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
