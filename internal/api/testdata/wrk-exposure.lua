-- wrk script for the API throughput benchmark (BENCHMARKS.md, "Exposure and API"):
-- GET /api/v1/exposure/CHAIN/ADDR, rotating over the addresses in the file ADDRS
-- (one per line; default addrs.txt), CHAIN default synth.
local chain = os.getenv("CHAIN") or "synth"
paths = {}
for line in io.lines(os.getenv("ADDRS") or "addrs.txt") do
  paths[#paths + 1] = "/api/v1/exposure/" .. chain .. "/" .. line
end
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
