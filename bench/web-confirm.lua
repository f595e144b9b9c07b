-- wrk script: presses "Yes, send my letters" once for each token of the file APPEAL_TOKENS, the tokens shared
-- between APPEAL_THREADS threads (wrk -t); once a thread's share is done it asks for /healthz until wrk stops
-- (the rate of confirmations is read from the database's timestamps, not from wrk's count).
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local threads = tonumber(os.getenv("APPEAL_THREADS"))
  tokens = {}
  local index = 0
  for line in io.lines(os.getenv("APPEAL_TOKENS")) do
    if index % threads == id then table.insert(tokens, line) end
    index = index + 1
  end
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = os.getenv("APPEAL_COOKIE") }
  body = "csrf_token=" .. os.getenv("APPEAL_CSRF")
  next_token = 1
end

function request()
  if next_token > #tokens then
    return wrk.format("GET", "/healthz")
  end
  local token = tokens[next_token]
  next_token = next_token + 1
  return wrk.format("POST", "/confirm/" .. token, headers, body)
end
