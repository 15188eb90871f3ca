-- wrk script: GET /pks/lookup?op=get&options=mr&search=0xFPR over the fingerprints in the file named by
-- the environment variable FPRS (one per line), in a random order; HTTP/1.1 keep-alive. With ADDRS=1
-- the lines are e-mail addresses and the search is by address (search=ADDR).
local fprs = {}
local file = os.getenv("FPRS")
if file then
  for line in io.lines(file) do
    if #line > 0 then fprs[#fprs + 1] = line end
  end
end
math.randomseed(os.time())

request = function()
  local prefix = os.getenv("ADDRS") == "1" and "" or "0x"
  local path = "/pks/lookup?op=get&options=mr&search=" .. prefix .. fprs[math.random(#fprs)]
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status, summary.requests))
end
