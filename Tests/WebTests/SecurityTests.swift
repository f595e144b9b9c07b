import Appeals
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import Web

@Suite("Web security: CSRF, rate limits, honeypot, body size, escaping, headers")
struct SecurityTests {
    @Test("A form without the token, with a token from another cookie, or from another site is refused and changes nothing", arguments: StoreKind.allCases)
    func csrf(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            let path = "/c/\(WebFixture.slug)/submit"
            #expect(try await browser.post(path, supporterFields(), csrf: nil).status == .forbidden)
            #expect(try await browser.post(path, supporterFields() + [("csrf_token", String(repeating: "A", count: 43))], csrf: nil).status == .forbidden)
            #expect(try await browser.post(path, supporterFields(), csrf: page.csrf, headers: [.origin: "https://evil.example"]).status == .forbidden)
            for site in ["cross-site", "same-site", "none"] {
                #expect(try await browser.post(path, supporterFields(), csrf: page.csrf, headers: [HTTPField.Name("Sec-Fetch-Site")!: site]).status == .forbidden)
            }
            // The token belongs with its cookie: another visitor's cookie does not match it.
            let other = Browser(client: browser.client)
            _ = try await other.get("/c/\(WebFixture.slug)")
            #expect(try await other.post(path, supporterFields(), csrf: page.csrf).status == .forbidden)
            #expect(try await fixture.counts("submission", "outbox") == [0, 0])
            // The same form from our own origin goes through.
            let ok = try await browser.post(path, supporterFields(), csrf: page.csrf,
                                            headers: [.origin: "https://appeals.example.org", HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(ok.status == .seeOther)
            #expect(try await fixture.count("submission") == 1)
        }
    }

    @Test("Form posts per client address, and confirmation emails per address, are limited", arguments: StoreKind.allCases)
    func rateLimits(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind) { config in
            config.web.formPostsPerAddress = 4
            config.web.emailsPerAddressPerHour = 2
        }
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            for _ in 0..<2 {
                #expect(try await browser.post("/c/\(WebFixture.slug)/submit", supporterFields(), csrf: page.csrf).status == .seeOther)
            }
            // A third email to the same address within the hour is not sent.
            let third = try await browser.post("/c/\(WebFixture.slug)/submit", supporterFields(), csrf: page.csrf)
            #expect(third.status == .tooManyRequests)
            #expect(try await fixture.outbox().count == 2)
            // The fifth form post from this address within ten minutes is refused, whatever it is.
            #expect(try await browser.post("/c/\(WebFixture.slug)/preview", supporterFields(email: "new@example.com"), csrf: page.csrf).status == .ok)
            let fifth = try await browser.post("/c/\(WebFixture.slug)/preview", supporterFields(email: "new@example.com"), csrf: page.csrf)
            #expect(fifth.status == .tooManyRequests)
            fixture.advance(hours: 1.01)
            #expect(try await browser.post("/c/\(WebFixture.slug)/submit", supporterFields(), csrf: page.csrf).status == .seeOther)
            #expect(try await fixture.outbox().count == 3)
        }
    }

    @Test("A filled honeypot field gets the usual answer and nothing is stored or sent", arguments: StoreKind.allCases)
    func honeypot(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            let fields = supporterFields().map { $0.0 == "website" ? ("website", "http://spam.example") : $0 }
            let answer = try await browser.post("/c/\(WebFixture.slug)/submit", fields, csrf: page.csrf)
            #expect(answer.status == .seeOther && answer.location == "/c/\(WebFixture.slug)/sent?lang=en")
            #expect(try await fixture.counts("submission", "outbox") == [0, 0])
        }
    }

    @Test("A body over the limit is refused with 413 and nothing is stored; a body that is not a form, with 415", arguments: StoreKind.allCases)
    func bodyLimit(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            let huge = try await browser.post("/c/\(WebFixture.slug)/submit", supporterFields(note: String(repeating: "x", count: 70_000)), csrf: page.csrf)
            #expect(huge.status == .contentTooLarge)
            #expect(huge.headers[.contentSecurityPolicy] != nil)
            let json = try await browser.send("/c/\(WebFixture.slug)/submit", method: .post, headers: [.contentType: "application/json"], body: "{}")
            #expect(json.status == .unsupportedMediaType)
            #expect(try await fixture.count("submission") == 0)
        }
    }

    @Test("Markup typed by a supporter shows as text in the preview, the letters page and the dashboard", arguments: StoreKind.allCases)
    func escaping(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        let attack = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
        try await fixture.test { browser in
            let fields = supporterFields(name: "Ana \(attack)", city: attack, note: attack)
            let page = try await browser.get("/c/\(WebFixture.slug)")
            let preview = try await browser.post("/c/\(WebFixture.slug)/preview", fields, csrf: page.csrf)
            let edit = try await browser.post("/c/\(WebFixture.slug)/edit", fields, csrf: page.csrf)
            try await ConfirmationTests.submit(browser, fields)
            let token = try await fixture.lastToken()
            _ = try await ConfirmationTests.confirm(browser, token: token)
            let letters = try await browser.get("/letters/\(token)")
            // A refusal reply holding markup, on the dashboard.
            try await fixture.execute("""
                INSERT INTO delivery_attempt (letter_id, attempted_at, code, reply, outcome)
                VALUES (1, \(fixture.literal(TestDatabase.fixedNow)), 550, '550 \(attack.replacingOccurrences(of: "'", with: "''"))', 'failed')
                """)
            let admin = try await AdminTests.logIn(browser)
            let dashboard = try await browser.get("/admin/c/\(WebFixture.slug)")
            #expect(admin.status == .seeOther)
            for (name, html) in [("preview", preview.html), ("edit", edit.html), ("letters", letters.html), ("dashboard", dashboard.html)] {
                #expect(!html.contains("<script>"), "\(name)")
                #expect(!html.contains("<img"), "\(name)")
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(name)")
            }
        }
    }

    @Test("Every response carries a strict content security policy and the other security headers", arguments: [
        "/c/azerbaijan-rufat-safarov", "/admin", "/no-such-page", "/confirm/unknown", "/static/site.css",
    ])
    func headers(path: String) async throws {
        let fixture = try await WebFixture()
        try await fixture.test { browser in
            let page = try await browser.get(path)
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'") && policy.contains("form-action 'self'"))
            #expect(!policy.contains("unsafe-inline"))
            #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
        }
    }
}

@Suite("Tokens")
struct TokenTests {
    @Test("base64url matches Foundation's base64 with the URL alphabet and no padding", arguments: [0, 1, 2, 3, 31, 32, 33])
    func base64URL(length: Int) {
        var generator = SeededRandom(seed: UInt64(length + 1))
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(SecretToken.base64URL(bytes) == expected)
    }

    @Test("Tokens are 43 characters of the URL alphabet, and differ")
    func tokens() {
        let tokens = (0..<100).map { _ in SecretToken.make() }
        #expect(tokens.allSatisfy(SecretToken.isWellFormed))
        #expect(Set(tokens).count == 100)
    }
}

@Suite("Web hardening")
struct HardeningTests {
    @Test("The dashboard's export defuses formulas typed on the campaign page; erasing a supporter removes their requests", arguments: StoreKind.allCases)
    func exportAndErasure(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let name = "=HYPERLINK(\"http://evil/\",\"x\")"
            try await ConfirmationTests.submit(browser, supporterFields(name: name, city: "@SUM(1)"))
            let token = try await fixture.lastToken()
            _ = try await ConfirmationTests.confirm(browser, token: token)
            // Once confirmed, the request keeps no personal data.
            #expect(try await fixture.rows("SELECT name || email AS personal FROM submission").map { $0["personal"] as String? } == [""])
            try await AdminTests.logIn(browser)
            let csv = try await browser.get("/admin/c/\(WebFixture.slug)/export.csv")
            #expect(csv.html.contains("\"'=HYPERLINK(\"\"http://evil/\"\",\"\"x\"\")\""))
            #expect(!csv.html.contains(",\"=HYPERLINK"))
            try await ConfirmationTests.submit(browser, supporterFields(email: "second@example.com"))
            _ = try await fixture.eraseSupporter(email: "ana@example.com")
            #expect(try await fixture.count("submission") == 1)
            #expect(try await browser.get("/letters/\(token)").status == .notFound)
        }
    }

    @Test("A campaign paused between the check and the write gets its page, not an error", arguments: StoreKind.allCases)
    func pausedMidSubmit(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            _ = try await fixture.setStatus(.paused)
            // The post's own check sees the pause too; the page says so either way.
            let answer = try await browser.post("/c/\(WebFixture.slug)/submit", supporterFields(), csrf: page.csrf)
            #expect(answer.status == .ok && answer.html.contains("Letters are paused"))
            #expect(try await fixture.count("submission") == 0)
        }
    }
}
