import Appeals
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import Web

@Suite("Campaign page and preview")
struct CampaignPageTests {
    @Test("The campaign page shows the case, the officials and a labelled form, with a CSRF cookie", arguments: StoreKind.allCases)
    func page(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            #expect(page.status == .ok)
            #expect(page.html.contains("<h1>Azerbaijan: release human rights defender Rufat Safarov</h1>"))
            for official in ["Ilham Aliyev", "Kamran Aliyev", "Farid Ahmadov", "Jeyhun Bayramov"] { #expect(page.html.contains(official)) }
            #expect(page.html.contains("<time datetime=\"2027-03-31\">March 31, 2027</time>"))
            for field in ["name", "email", "country", "city", "language", "personal_note", "consent"] {
                #expect(page.html.contains("name=\"\(field)\""), "input \(field)")
                #expect(page.html.contains("<label for=\"\(field)\">"), "label for \(field)")
            }
            #expect(page.html.contains("<option value=\"AZ\">Azerbaijan</option>"))
            #expect(page.csrf?.count == 43)
            let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("appeal_form=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Secure"))
        }
    }

    @Test("The page is served in the browser's language among the campaign's, and ?lang= switches it", arguments: StoreKind.allCases)
    func languages(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let french = try await browser.get("/c/\(WebFixture.slug)", headers: [.acceptLanguage: "de-DE, fr-CA;q=0.8, en;q=0.5"])
            #expect(french.html.contains("<html lang=\"fr\">"))
            #expect(french.html.contains("<label for=\"name\">Votre nom</label>"))
            #expect(french.html.contains("<option value=\"DE\">Allemagne</option>"))
            #expect(french.html.contains("Nous demandons aux autorités de"))
            let switched = try await browser.get("/c/\(WebFixture.slug)?lang=en", headers: [.acceptLanguage: "fr"])
            #expect(switched.html.contains("<html lang=\"en\">"))
            #expect(switched.html.contains("<option value=\"DE\">Germany</option>"))
            let unknown = try await browser.get("/c/\(WebFixture.slug)?lang=xx", headers: [.acceptLanguage: "ja"])
            #expect(unknown.html.contains("<html lang=\"en\">"))
        }
    }

    @Test("An unknown or draft campaign is not found; a paused or closed one says so and takes no letters", arguments: StoreKind.allCases)
    func closedCampaigns(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            #expect(try await browser.get("/c/no-such-campaign").status == .notFound)
            let open = try await browser.get("/c/\(WebFixture.slug)")
            _ = try await fixture.setStatus(.paused)
            // The page, kept for two seconds, shows a change made elsewhere (the command line) after that.
            #expect(try await browser.get("/c/\(WebFixture.slug)").html.contains("/preview"))
            fixture.advance(hours: 2.5 / 3600)
            let paused = try await browser.get("/c/\(WebFixture.slug)")
            #expect(paused.status == .ok)
            #expect(paused.html.contains("<h2>Letters are paused</h2>"))
            #expect(paused.html.contains("Letters are paused for now"))
            #expect(!paused.html.contains("/preview"))
            #expect(paused.csrf == nil)
            // A form sent from the page before the pause gets the page as it is now.
            let posted = try await browser.post("/c/\(WebFixture.slug)/submit", supporterFields(), csrf: open.csrf)
            #expect(posted.status == .ok)
            #expect(posted.html.contains("Letters are paused for now"))
            #expect(try await fixture.counts("submission", "outbox") == [0, 0])
            _ = try await fixture.setStatus(.closed)
            fixture.advance(hours: 2.5 / 3600)
            #expect(try await browser.get("/c/\(WebFixture.slug)").html.contains("The campaign is over"))
            _ = try await fixture.setStatus(.draft)
            fixture.advance(hours: 2.5 / 3600)
            #expect(try await browser.get("/c/\(WebFixture.slug)").status == .notFound)
        }
    }

    @Test("The preview shows every official and the embassy in the supporter's country, with the note in place", arguments: StoreKind.allCases)
    func preview(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            let preview = try await browser.post("/c/\(WebFixture.slug)/preview", supporterFields(note: "Libérez-le maintenant."), csrf: page.csrf)
            #expect(preview.status == .ok)
            #expect(preview.html.occurrences(of: "<article class=\"letter\">") == 5)
            #expect(preview.html.contains("Embassy of the Republic of Azerbaijan in France"))
            #expect(preview.html.occurrences(of: "Libérez-le maintenant.") >= 5)
            #expect(!preview.html.contains("no embassy"))
            #expect(preview.headers[.cacheControl] == "no-store")
            // Nothing is stored by a preview.
            #expect(try await fixture.counts("submission", "supporter") == [0, 0])
            let japan = try await browser.post("/c/\(WebFixture.slug)/preview", supporterFields(country: "JP"), csrf: page.csrf)
            #expect(japan.html.occurrences(of: "<article class=\"letter\">") == 4)
            #expect(japan.html.contains("The campaign lists no embassy in your country"))
        }
    }

    @Test("Edit brings the form back filled in; bad values are listed by field and kept, and nothing is stored", arguments: StoreKind.allCases)
    func editAndErrors(_ kind: StoreKind) async throws {
        let fixture = try await WebFixture(kind)
        try await fixture.test { browser in
            let page = try await browser.get("/c/\(WebFixture.slug)")
            let edit = try await browser.post("/c/\(WebFixture.slug)/edit", supporterFields(city: "Marseille"), csrf: page.csrf)
            #expect(edit.html.contains("value=\"Marseille\""))
            #expect(edit.html.contains("<option value=\"FR\" selected>"))
            #expect(edit.html.contains("Please free him.</textarea>"))
            let bad = try await browser.post("/c/\(WebFixture.slug)/preview",
                                             supporterFields(email: "not-an-address", country: "ZZ", consent: false), csrf: page.csrf)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.html.contains("<a href=\"#email\">"))
            #expect(bad.html.contains("<a href=\"#country\">"))
            #expect(bad.html.contains("<a href=\"#consent\">Consent: tick the box"))
            #expect(bad.html.contains("value=\"not-an-address\""))
            #expect(bad.html.contains("id=\"email\" name=\"email\"") && bad.html.contains("aria-invalid=\"true\""))
            let noConsent = try await browser.post("/c/\(WebFixture.slug)/submit", supporterFields(consent: false), csrf: page.csrf)
            #expect(noConsent.status == .unprocessableContent)
            #expect(noConsent.html.contains("<a href=\"#consent\">"))
            #expect(try await fixture.counts("submission", "outbox") == [0, 0])
        }
    }
}
