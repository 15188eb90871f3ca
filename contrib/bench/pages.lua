-- wrk script: GET over the paths in the file named by the environment variable PATHS (one per line),
-- in a random order; HTTP/1.1 keep-alive. Prints the same RESULT line as lookup.lua.
local paths = {}
local file = os.getenv("PATHS")
if file then
  for line in io.lines(file) do
    if #line > 0 then paths[#paths + 1] = line end
  end
end
math.randomseed(os.time())

request = function()
  return wrk.format("GET", paths[math.random(#paths)], { ["Accept"] = "text/html" })
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT req/s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
