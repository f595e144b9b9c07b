import Appeals
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import Web

@Suite("Confirmation by email")
struct ConfirmationTests {
    /// Fills in the form and asks for the confirmation email; returns the preview's letters' texts.
    @discardableResult
    static func submit(_ browser: Browser, _ fields: [(String, String)] = supporterFields()) async throws -> [String] {
        let page = try await browser.get("/c/\(WebFixture.slug)")
        let preview = try await browser.post("/c/\(WebFixture.slug)/preview", fields, csrf: page.csrf)
        let sent = try await browser.post("/c/\(WebFixture.slug)/submit", fields, csrf: preview.csrf)
        #expect(sent.status == .seeOther)
        #expect(sent.location == "/c/\(WebFixture.slug)/sent?lang=en")
        return preview.html.components(separatedBy: "<pre class=\"body\">").dropFirst().map { String($0.prefix { $0 != "<" }).htmlUnescaped }
    }

    /// Opens the link and presses the button.
    static func confirm(_ browser: Browser, token: String) async throws -> Browser.Page {
        let page = try await browser.get("/confirm/\(token)")
        return try await browser.post("/confirm/\(token)", [], csrf: page.csrf)
    }

    @Test("Sending asks for confirmation by email; only the link's button creates the supporter and queues exactly the letters previewed", arguments: StoreKind.allCases)
    func confirmation(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let previewed = try await Self.submit(browser)
            #expect(previewed.count == 5)
            #expect(try await fixture.counts("supporter", "letter") == [0, 0])
            let email = try PythonEmail.parse(try #require(try await fixture.outbox().first))
            #expect(email.to.map(\.address) == ["ana@example.com"])
            #expect(email.subject.hasPrefix("Confirm your letters"))
            #expect(email.body.contains("https://appeals.example.org/not-me/"))
            #expect(email.defects.isEmpty)
            let token = try await fixture.lastToken()
            // The database keeps only the token's hash.
            let stored = try await fixture.rows("SELECT token_hash FROM submission").map { $0["token_hash"] as Data }
            #expect(stored == [SecretToken.hash(token)])
            #expect(!stored[0].contains(Data(token.utf8)) && stored[0].count == 32)

            let opened = try await browser.get("/confirm/\(token)")
            #expect(opened.html.contains("Send 5 letters in the name of Ana Martins"))
            #expect(try await fixture.count("supporter") == 0)
            let done = try await browser.post("/confirm/\(token)", [], csrf: opened.csrf)
            #expect(done.status == .seeOther && done.location == "/letters/\(token)")
            #expect(try await fixture.counts("supporter", "letter") == [1, 5])
            let bodies = try await fixture.rows("SELECT body FROM letter_text ORDER BY letter_id").map { $0["body"] as String }
            #expect(Set(bodies) == Set(previewed))
            let consent = try await fixture.rows("SELECT consent FROM supporter").map { $0["consent"] as Bool }
            #expect(consent == [true])

            let letters = try await browser.get("/letters/\(token)")
            #expect(letters.status == .ok)
            #expect(letters.html.occurrences(of: "Waiting to be sent") == 5)
            #expect(letters.headers[.cacheControl] == "no-store")
            // The link, opened again, shows the letters; pressing again creates nothing.
            #expect(try await browser.get("/confirm/\(token)").location == "/letters/\(token)")
            let again = try await browser.post("/confirm/\(token)", [], csrf: opened.csrf)
            #expect(again.location == "/letters/\(token)")
            #expect(try await fixture.count("letter") == 5)
            // A letter sent shows as sent.
            try await fixture.execute("UPDATE letter SET status = 'sent', sent_at = \(fixture.literal(TestDatabase.fixedNow)), attempts = 1 WHERE id = 1")
            let after = try await browser.get("/letters/\(token)")
            #expect(after.html.occurrences(of: "Waiting to be sent") == 4 && after.html.contains("status-sent"))
        }
    }

    @Test("A link past its time confirms nothing; unknown and malformed links are not found", arguments: StoreKind.allCases)
    func expiredAndUnknown(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            try await Self.submit(browser)
            let token = try await fixture.lastToken()
            let page = try await browser.get("/confirm/\(token)")
            fixture.advance(hours: 48.01)
            #expect(try await browser.get("/confirm/\(token)").status == .gone)
            let late = try await browser.post("/confirm/\(token)", [], csrf: page.csrf)
            #expect(late.status == .gone && late.html.contains("This link has expired"))
            #expect(try await fixture.counts("supporter", "letter") == [0, 0])
            var wrong = Array(token)
            wrong[0] = wrong[0] == "A" ? "B" : "A"
            #expect(try await browser.get("/confirm/\(String(wrong))").status == .notFound)
            #expect(try await browser.get("/confirm/short").status == .notFound)
            #expect(try await browser.get("/letters/\(token)").status == .notFound)
            #expect(try await browser.get("/letters/%27%20OR%201=1--").status == .notFound)
        }
    }

    @Test("The same email again creates no second set of letters, and the page a stranger sees is the same", arguments: StoreKind.allCases)
    func sameEmailTwice(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            try await Self.submit(browser)
            let first = try await fixture.lastToken()
            _ = try await Self.confirm(browser, token: first)
            #expect(try await fixture.count("letter") == 5)
            // A stranger submits the same address: same answer as for anyone, and the email goes to the owner.
            let stranger = Browser(client: browser.client)
            try await Self.submit(stranger, supporterFields(name: "Someone Else", email: "ANA@example.com", country: "GB"))
            #expect(try await fixture.outbox().count == 2)
            let second = try await fixture.lastToken()
            #expect(second != first)
            let confirmed = try await Self.confirm(stranger, token: second)
            #expect(confirmed.location == "/letters/\(second)?already=1")
            #expect(try await fixture.counts("supporter", "letter") == [1, 5])
            let page = try await stranger.get("/letters/\(second)?already=1")
            #expect(page.html.contains("You had already written"))
            #expect(page.html.occurrences(of: "<article class=\"letter\">") == 5)
            #expect(!page.html.contains("Someone Else"))
        }
    }

    @Test("\"It wasn't me\" forgets the request and its personal data; the link then confirms nothing", arguments: StoreKind.allCases)
    func notMe(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            try await Self.submit(browser)
            let token = try await fixture.lastToken()
            let page = try await browser.get("/not-me/\(token)")
            #expect(page.status == .ok && page.html.contains("Forget this request"))
            #expect(try await fixture.count("submission") == 1)
            let forgotten = try await browser.post("/not-me/\(token)", [], csrf: page.csrf)
            #expect(forgotten.status == .ok && forgotten.html.contains("Request forgotten"))
            #expect(try await fixture.count("submission") == 0)
            #expect(try await browser.get("/confirm/\(token)").status == .notFound)
            let form = try await browser.get("/c/\(WebFixture.slug)")
            #expect(try await browser.post("/confirm/\(token)", [], csrf: form.csrf).status == .notFound)
            #expect(try await fixture.count("supporter") == 0)
        }
    }

    @Test("A campaign closed after the request confirms nothing; a paused one queues the letters, to be sent when it reopens", arguments: StoreKind.allCases)
    func campaignClosedMeanwhile(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            try await Self.submit(browser)
            let first = try await fixture.lastToken()
            try await Self.submit(browser, supporterFields(email: "bo@example.com"))
            let second = try await fixture.lastToken()
            _ = try await fixture.setStatus(.paused)
            #expect(try await Self.confirm(browser, token: first).status == .seeOther)
            #expect(try await fixture.count("letter") == 5)
            _ = try await fixture.setStatus(.closed)
            let closed = try await Self.confirm(browser, token: second)
            #expect(closed.status == .conflict && closed.html.contains("The campaign is over"))
            #expect(try await fixture.count("supporter") == 1)
        }
    }
}
