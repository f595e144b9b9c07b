import Foundation
import Testing
import TestSupport
@testable import Appeals

@Suite("Letter templates")
struct TemplateTests {
    static let campaign = Campaign(
        id: 1, slug: "c", title: "Free Them", organization: "O'Brien & Co <Observatory>", summary: "S", demands: ["Free them", "Drop charges"],
        languages: ["en", "fr"], status: .active, deadline: nil, sendingHours: nil, createdAt: TestDatabase.fixedNow)
    static let supporter = Supporter(
        id: 1, campaignId: 1, name: "Siobhán O'Brien & Co", email: "s@example.org", emailKey: "s@example.org", country: "FR", city: "Lyon",
        language: "fr", consent: true, personalNote: nil, createdAt: TestDatabase.fixedNow, erasedAt: nil)
    static let embassy = Target(
        id: 9, campaignId: 1, kind: .embassy, name: "Embassy <AZ>", title: "Ambassador", salutation: "Your Excellency", email: "e@example.net",
        emailKey: "e@example.net", country: "FR", language: "en", postalAddress: nil, fax: nil, timezone: nil, disabled: false, disabledReason: nil)

    static func template(_ letter: String, subject: String = "Subject", language: String = "en") throws -> LetterTemplate {
        try LetterTemplate(language: language, subject: subject, subjectFile: "subject.\(language).mustache", letter: letter, letterFile: "letter.\(language).mustache")
    }

    static func render(_ letter: String, supporter: Supporter = supporter, language: String = "en") throws -> String {
        var campaign = Self.campaign
        campaign.languages = [language]
        let composer = try LetterComposer(campaign: campaign, templates: [try template(letter, language: language)], timeZone: TimeZone(identifier: "UTC")!)
        return composer.compose(supporter: supporter, target: embassy, now: TestDatabase.fixedNow).body
    }

    @Test("an unknown variable is an error naming file, line and name")
    func unknownVariable() {
        let found = issues { _ = try Self.template("Dear {{target.salutation}},\n\nFrom {{supporter.nmae}}\n") }
        #expect(found.map(\.description) == ["letter.en.mustache:3: unknown variable supporter.nmae"])
    }

    static let refused: [(String, String)] = [
        ("{{#campaign.demands}}\n- {{.}}\n", "never closed"),
        ("{{#campaign.demands}}{{/campaign.title}}", "does not match"),
        ("{{campaign.demands}}", "is a list"),
        ("{{target}}", "group of values"),
        ("{{target.isEmbassy}}", "true or false"),
        ("{{> /etc/passwd}}", "cannot include other files"),
        ("{{< ../other}}{{/ ../other}}", "cannot include other files"),
        ("{{=<% %>=}}", "delimiters"),
        ("{{% CONTENT_TYPE: HTML}}", "pragmas"),
        ("{{uppercased(target.name)}}", "not a variable name"),
        ("{{target.name", "never closed"),
        ("{{#campaign.demands}}{{name}}{{/campaign.demands}}", "unknown variable name"),
    ]

    @Test("malformed or dangerous tags are refused before rendering", arguments: refused)
    func refusesTags(_ source: String, _ fragment: String) {
        let found = issues { _ = try Self.template(source) }
        #expect(found.contains { $0.message.contains(fragment) }, "\(source): \(found)")
        #expect(found.allSatisfy { $0.location.file == "letter.en.mustache" && $0.location.line != nil })
    }

    @Test("sections resolve names the way Mustache does")
    func sectionsResolve() throws {
        let body = try Self.render("""
            {{#campaign.demands}}
            - {{.}} ({{campaign.title}})
            {{/campaign.demands}}
            {{#target}}{{name}}{{/target}}
            {{#target.isEmbassy}}embassy in {{target.countryName}}{{/target.isEmbassy}}
            {{^target.isEmbassy}}official{{/target.isEmbassy}}
            """)
        #expect(body == "- Free them (Free Them)\n- Drop charges (Free Them)\nEmbassy <AZ>\nembassy in France\n")
    }

    @Test("letters are plain text: nothing is HTML-escaped")
    func noEscaping() throws {
        let body = try Self.render("{{supporter.name}} / {{{target.name}}} / {{&campaign.organization}}")
        #expect(body == "Siobhán O'Brien & Co / Embassy <AZ> / O'Brien & Co <Observatory>\n")
    }

    @Test("an empty personal note leaves no trace; a note appears verbatim")
    func personalNote() throws {
        let source = "A\n{{#personalNote}}\n\n{{personalNote}}\n{{/personalNote}}\nB"
        #expect(try Self.render(source) == "A\nB\n")
        var withNote = Self.supporter
        withNote.personalNote = "I stand with \"Rufat\" & <all> defenders."
        #expect(try Self.render(source, supporter: withNote) == "A\n\nI stand with \"Rufat\" & <all> defenders.\nB\n")
    }

    @Test("date and country names are written in the letter's language")
    func localized() throws {
        #expect(try Self.render("{{date}} · {{supporter.countryName}}", language: "fr") == "18 novembre 2026 · France\n")
        #expect(try Self.render("{{date}}", language: "en") == "November 18, 2026\n")
        var azerbaijani = Self.supporter
        azerbaijani.country = "AZ"
        #expect(try Self.render("{{supporter.countryName}}", supporter: azerbaijani, language: "fr") == "Azerbaïdjan\n")
    }

    @Test("a letter is in the supporter's language, else the target's, else the campaign's first")
    func languageChoice() throws {
        let composer = try LetterComposer(campaign: Self.campaign, templates: [try Self.template("en", language: "en"), try Self.template("fr", language: "fr")])
        var supporter = Self.supporter
        var target = Self.embassy
        supporter.language = "fr"; target.language = "en"
        #expect(composer.language(for: supporter, target: target) == "fr")
        supporter.language = "fr-CA"
        #expect(composer.language(for: supporter, target: target) == "fr")
        supporter.language = "de"; target.language = "fr"
        #expect(composer.language(for: supporter, target: target) == "fr")
        supporter.language = nil; target.language = "az"
        #expect(composer.language(for: supporter, target: target) == "en")
    }

    @Test("campaign create names the template file and line of every unknown variable")
    func folderErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("campaign-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Fixtures.exampleCampaign, toPath: folder.path)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "Dear {{target.salutation}},\n{{supporter.fullName}}\n".write(to: folder.appendingPathComponent("letter.fr.mustache"), atomically: true, encoding: .utf8)
        let found = issues { _ = try CampaignFolder(path: folder.path) }
        #expect(found.map(\.description) == ["\(folder.path)/letter.fr.mustache:2: unknown variable supporter.fullName"])
    }
}
