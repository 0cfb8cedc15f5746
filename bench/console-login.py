#!/usr/bin/env python3
"""Log in to activator's console as the benchmark does: set the password of
a new operator through its one-time link, log in, and print the session's
Cookie header value. Usage: console-login.py BASE_URL SET_PASSWORD_URL NAME"""
import http.cookiejar, re, sys, urllib.parse, urllib.request

base, link, name = sys.argv[1:4]
password = "bench password of " + name
jar = http.cookiejar.CookieJar()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

def form(url, fields):
    page = opener.open(url).read().decode()
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    if not m:
        sys.exit("console-login: no CSRF token on " + url)
    data = urllib.parse.urlencode(dict(fields, csrf=m.group(1))).encode()
    try:
        opener.open(urllib.request.Request(url, data=data))
    except urllib.error.HTTPError as e:
        if e.code not in (302, 303):
            sys.exit("console-login: %s answered %d" % (url, e.code))

form(link, {"password": password, "password2": password})
form(base + "/console/login", {"name": name, "password": password, "next": ""})
for c in jar:
    if c.name == "activator_session":
        print("%s=%s" % (c.name, c.value))
        sys.exit(0)
sys.exit("console-login: no session cookie after logging in")
