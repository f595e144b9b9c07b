import Appeals
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import Web

@Suite("Organizers' dashboard")
struct AdminTests {
    /// Logs in with the fixture's secret; returns the login's answer.
    @discardableResult
    static func logIn(_ browser: Browser, secret: String = WebFixture.secret) async throws -> Browser.Page {
        let login = try await browser.get("/admin")
        return try await browser.post("/admin/login", [("secret", secret)], csrf: login.csrf)
    }

    @Test("Without a session the dashboard shows only the login form; a wrong secret is refused", arguments: StoreKind.allCases)
    func login(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let form = try await browser.get("/admin")
            #expect(form.status == .ok && form.html.contains("type=\"password\""))
            #expect(!form.html.contains(WebFixture.slug))
            #expect(try await browser.get("/admin/c/\(WebFixture.slug)").location == "/admin")
            #expect(try await browser.get("/admin/c/\(WebFixture.slug)/export.csv").location == "/admin")
            let wrong = try await Self.logIn(browser, secret: "correct horse battery stapl")
            #expect(wrong.status == .unauthorized && wrong.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("appeal_admin=") })
            let right = try await Self.logIn(browser)
            #expect(right.status == .seeOther)
            let cookie = try #require(right.headers[values: .setCookie].first { $0.hasPrefix("appeal_admin=") })
            #expect(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let home = try await browser.get("/admin")
            #expect(home.html.contains("/admin/c/\(WebFixture.slug)"))
            // Logging out ends the session.
            #expect(try await browser.post("/admin/logout", [], csrf: home.csrf).status == .seeOther)
            #expect(!(try await browser.get("/admin").html.contains("/admin/c/\(WebFixture.slug)")))
        }
    }

    @Test("A forged, tampered or expired session cookie opens nothing", arguments: StoreKind.allCases)
    func forgedSessions(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        let other = try await WebFixture(kind)
        try await fixture.test { browser in
            let valid = try #require(try await Self.logIn(browser).headers[values: .setCookie].first { $0.hasPrefix("appeal_admin=") })
            let value = String(valid.split(separator: ";")[0].dropFirst("appeal_admin=".count))
            let parts = value.split(separator: ".")
            let later = "\(Int(parts[0])! + 86_400).\(parts[1])"
            let fromAnotherDatabase = String(try #require(try await Self.logInOther(other)).dropFirst("appeal_admin=".count))
            for forged in [later, "9999999999.AAAA", "", fromAnotherDatabase] {
                let page = try await browser.get("/admin", headers: [.cookie: "appeal_admin=\(forged)"])
                #expect(!page.html.contains("/admin/c/"), "\(forged)")
            }
            fixture.advance(hours: 12.01)
            #expect(!(try await browser.get("/admin").html.contains("/admin/c/")))
        }
    }

    static func logInOther(_ fixture: WebFixture) async throws -> String? {
        try await fixture.test { browser in
            try await Self.logIn(browser).headers[values: .setCookie].first { $0.hasPrefix("appeal_admin=") }.map { String($0.split(separator: ";")[0]) }
        }
    }

    @Test("The campaign's page shows counts by status and target, failures with replies, the chart, and refreshes while sending", arguments: StoreKind.allCases)
    func campaignPage(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.importSupporters("supporters-crlf.csv")
        _ = try await fixture.queue()
        try await fixture.execute("""
            UPDATE letter SET status = 'sent', sent_at = \(fixture.literal(TestDatabase.fixedNow.addingTimeInterval(-1800))), attempts = 1
            WHERE id IN (1, 2, 3)
            """)
        try await fixture.execute("UPDATE letter SET status = 'failed', attempts = 1, last_code = 550 WHERE id = 4")
        try await fixture.execute("""
            INSERT INTO delivery_attempt (letter_id, attempted_at, code, reply, outcome)
            VALUES (4, \(fixture.literal(TestDatabase.fixedNow)), 550, '550 5.1.1 mailbox unknown', 'failed')
            """)
        try await fixture.execute("UPDATE target SET disabled = true, disabled_reason = 'mailbox does not exist' WHERE email = 'president@example.org'")
        let report = try await fixture.report()
        try await fixture.test { browser in
            try await Self.logIn(browser)
            let page = try await browser.get("/admin/c/\(WebFixture.slug)")
            #expect(page.status == .ok)
            #expect(page.html.contains("<th scope=\"row\">sent</th><td>3</td>"))
            #expect(page.html.contains("<th scope=\"row\">failed</th><td>1</td>"))
            #expect(page.html.contains("<th scope=\"row\">queued</th><td>\(report.letters.queued)</td>"))
            #expect(page.html.contains("550 5.1.1 mailbox unknown"))
            #expect(page.html.contains("disabled: mailbox does not exist"))
            #expect(page.html.contains("<svg class=\"chart\""))
            #expect(page.html.contains("Letters sent per hour: 3 in the last 24 hours"))
            #expect(page.html.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
            #expect(page.html.occurrences(of: "<tr") >= report.targets.count)
            let csv = try await browser.get("/admin/c/\(WebFixture.slug)/export.csv")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.html.split(whereSeparator: \.isNewline).count == report.letters.queued + 4 + 1)
        }
    }

    @Test("A database that fails under the campaign's page or its export is a server error, not a missing campaign",
          arguments: StoreKind.allCases)
    func databaseFailure(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            try await Self.logIn(browser)
            #expect(try await browser.get("/admin/c/\(WebFixture.slug)").status == .ok)
            // The letters' table is gone from under the server: the campaign is there, its letters cannot be read.
            try await fixture.execute("ALTER TABLE letter RENAME TO letter_elsewhere")
            let page = try await browser.get("/admin/c/\(WebFixture.slug)")
            #expect(page.status == .internalServerError, "\(page.status)")
            #expect(!page.html.contains("letter_elsewhere") && !page.html.contains("no such table"))
            #expect(try await browser.get("/admin/c/\(WebFixture.slug)/export.csv").status == .internalServerError)
            #expect(try await browser.get("/admin/c/no-such-campaign").status == .notFound)
            #expect(try await browser.get("/admin/c/no-such-campaign/export.csv").status == .notFound)
        }
    }

    @Test("Pause and open work from the dashboard with its token, and not without", arguments: StoreKind.allCases)
    func pauseAndOpen(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            try await Self.logIn(browser)
            let page = try await browser.get("/admin/c/\(WebFixture.slug)")
            #expect(try await browser.post("/admin/c/\(WebFixture.slug)/pause", [], csrf: nil).status == .forbidden)
            #expect(try await fixture.campaign().status == .active)
            #expect(try await browser.post("/admin/c/\(WebFixture.slug)/pause", [], csrf: page.csrf).status == .seeOther)
            #expect(try await fixture.campaign().status == .paused)
            #expect(try await browser.get("/c/\(WebFixture.slug)").html.contains("Letters are paused"))
            #expect(try await browser.post("/admin/c/\(WebFixture.slug)/open", [], csrf: page.csrf).status == .seeOther)
            #expect(try await fixture.campaign().status == .active)
            // Without a session, the token alone does nothing.
            browser.clearCookies()
            let fresh = try await browser.get("/admin")
            #expect(try await browser.post("/admin/c/\(WebFixture.slug)/pause", [], csrf: fresh.csrf).location == "/admin")
            #expect(try await fixture.campaign().status == .active)
        }
    }

    @Test("Without a secret the dashboard is closed; a secret under 16 characters is refused at start", arguments: StoreKind.allCases)
    func noSecret(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind, adminSecret: nil)
        try await fixture.test { browser in
            let page = try await browser.get("/admin")
            #expect(page.html.contains("The dashboard is closed"))
            #expect(page.csrf == nil)
            let campaign = try await browser.get("/c/\(WebFixture.slug)")
            #expect(try await browser.post("/admin/login", [("secret", "")], csrf: campaign.csrf).status == .unauthorized)
            #expect(try await browser.post("/admin/login", [("secret", WebFixture.secret)], csrf: campaign.csrf).status == .unauthorized)
        }
        await #expect(throws: AppealsError.self) { try await WebFixture(kind, adminSecret: "short") }
    }
}
