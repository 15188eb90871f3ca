-- wrk script: POST /handoff with the JSON request in the file named by the environment variable BODY
-- (one public key, default policy). Prints one RESULT line like lookup.lua.
local f = io.open(os.getenv("BODY"), "r")
local body = f:read("*a")
f:close()
request = function()
  return wrk.format("POST", "/handoff", { ["Content-Type"] = "application/json" }, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
