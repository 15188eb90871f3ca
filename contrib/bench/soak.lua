-- wrk script for soak.sh: 70 % lookups by fingerprint, 20 % index searches by address, 10 % misses.
local fprs = {}
for line in io.lines(os.getenv("FPRS")) do
  if #line > 0 then fprs[#fprs + 1] = line end
end
math.randomseed(os.time())

request = function()
  local r = math.random(100)
  local i = math.random(#fprs)
  local path
  if r <= 70 then
    path = "/pks/lookup?op=get&options=mr&search=0x" .. fprs[i]
  elseif r <= 90 then
    path = "/pks/lookup?op=index&options=mr&search=user" .. i .. "@bench.example"
  else
    path = "/pks/lookup?op=get&options=mr&search=0x" .. string.rep("0", 24) .. string.format("%016X", i)
  end
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
