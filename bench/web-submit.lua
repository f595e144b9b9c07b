-- wrk script: "send my letters" posts, each with an email address of its own, for as long as wrk runs.
-- Cookie and form token come from the environment.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  slug = os.getenv("APPEAL_SLUG")
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = os.getenv("APPEAL_COOKIE") }
  csrf = os.getenv("APPEAL_CSRF")
  sent = 0
end

function request()
  local n = id * 100000000 + sent
  sent = sent + 1
  local body = "csrf_token=" .. csrf .. "&name=Bench+Supporter+" .. n .. "&email=bench" .. n .. "%40example.net" ..
    "&country=FR&city=Lyon&language=en&personal_note=&consent=yes&website="
  return wrk.format("POST", "/c/" .. slug .. "/submit", headers, body)
end
