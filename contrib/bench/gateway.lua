-- wrk script for the gateway benchmark (contrib/bench/gateway.sh): HKP op=get by address.
--   MODE=random : a new address of the gateway domain on every request (each one makes a container)
--   MODE=fixed  : always the address in ADDR (a cached container, or a stored key)
local mode = os.getenv("MODE") or "fixed"
local addr = os.getenv("ADDR") or "x@gw.example"
local domain = os.getenv("DOMAIN") or "gw.example"
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)

request = function()
  local a = addr
  if mode == "random" then
    n = n + 1
    a = string.format("r%d-%d@%s", math.random(1, 1e9), n, domain)
  end
  return wrk.format("GET", "/pks/lookup?op=get&options=mr&search=" .. a)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
