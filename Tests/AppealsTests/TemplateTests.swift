import Foundation
import Testing
import TestSupport
@testable import Appeals

@Suite("Letter templates")
struct TemplateTests {
    static let campaign = Campaign(
        id: 1, slug: "c", title: "Free Them", organization: "O'Brien & Co <Observatory>", summary: "S", demands: ["Free them", "Drop charges"], demandsByLanguage: [:],
        languages: ["en", "fr"], status: .active, deadline: nil, sendingHours: nil, createdAt: TestDatabase.fixedNow)
    static let supporter = Supporter(
        id: 1, campaignId: 1, name: "Siobhán O'Brien & Co", email: "s@example.org", emailKey: "s@example.org", country: "FR", city: "Lyon",
        language: "fr", consent: true, personalNote: nil, createdAt: TestDatabase.fixedNow, erasedAt: nil)
    static let embassy = Target(
        id: 9, campaignId: 1, kind: .embassy, name: "Embassy <AZ>", title: "Ambassador", salutation: "Your Excellency", salutations: [:], email: "e@example.net",
        emailKey: "e@example.net", country: "FR", language: "en", postalAddress: nil, fax: nil, timezone: nil, disabled: false, disabledReason: nil, removedAt: nil)

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
        #expect(found.map(\.description) == ["letter.en.mustache:3: unknown variable supporter.nmae; the variables are "
                                             + TemplateSchema.letter.names.joined(separator: ", ")])
        #expect(found.first?.message.contains("supporter.name, supporter.city") == false && found.first?.message.contains("supporter.name") == true)
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
        #expect(found.map { String($0.description.prefix { $0 != ";" }) } == ["\(folder.path)/letter.fr.mustache:2: unknown variable supporter.fullName"])
    }

    @Test("a NUL or another control character in a template is refused with its line; tab, CR and LF are text",
          arguments: ["\u{0}", "\u{1B}", "\u{7F}", "\u{85}"])
    func controlCharacters(_ character: String) {
        let found = issues { _ = try Self.template("Dear {{target.salutation}},\n\nWe ask\(character) you to act.\nSigned\n") }
        #expect(found.count == 1 && found.first?.location.line == 3 && found.first?.message.contains("control character") == true, "\(found)")
        #expect(issues { _ = try Self.template("Dear\t{{target.salutation}},\r\nText\n") }.isEmpty)
    }

    @Test("sections nested thousands deep are refused, not a crash")
    func deepNesting() {
        let depth = 3000
        let source = String(repeating: "{{#campaign.demands}}", count: depth) + "x" + String(repeating: "{{/campaign.demands}}", count: depth)
        let found = issues { _ = try Self.template(source) }
        #expect(found.count == 1 && found.first?.message.contains("nested more than \(TemplateChecker.maxNesting) deep") == true, "\(found.prefix(2))")
    }

    /// A long letter with every kind of tag, standalone lines, CRLF, non-ASCII text and long runs without a line break.
    static func longTemplate(lines: Int) -> String {
        var text = "{{target.salutation}},\n\n"
        for index in 0..<lines {
            switch index % 7 {
            case 0: text += "{{#campaign.demands}}\n- {{.}} ({{supporter.name}})\n{{/campaign.demands}}\n"
            case 1: text += "  {{#personalNote}}\n  {{personalNote}}\n  {{/personalNote}}\n"
            case 2: text += "Ligne \(index) — {{supporter.city}}, {{supporter.countryName}}; {{{campaign.title}}}\r\n"
            case 3: text += "{{^target.isEmbassy}}Minister{{/target.isEmbassy}}{{#target.isEmbassy}}Ambassador{{/target.isEmbassy}} {{target.name}}\n"
            case 4: text += String(repeating: "word\(index) {{campaign.slug}} ", count: 40) + "\n"
            case 5: text += "{{! a comment }}\n   \n"
            default: text += "{{date}} {{campaign.organization}}\n"
            }
        }
        return text
    }

    @Test("a long template is compiled in pieces that render exactly as the whole", arguments: [3, 60, 600, -1, -2])
    func pieces(_ lines: Int) throws {
        // -1: tags side by side with no text between; -2: one tag per line.
        let source = lines == -1 ? String(repeating: "{{target.name}}{{{supporter.name}}}", count: 3000)
            : lines == -2 ? String(repeating: "{{supporter.city}}\n", count: 3000) : Self.longTemplate(lines: lines)
        let check = TemplateChecker(file: "letter.en.mustache", schema: .letter).check(source)
        #expect(check.issues.isEmpty)
        #expect((0..<60).contains(lines) || check.cuts.count > source.utf8.count / (2 * TemplateChecker.pieceBytes), "\(check.cuts.count) cuts in \(source.utf8.count) bytes")
        let whole = try TemplatePieces(source, cuts: [], file: "letter.en.mustache")
        let cut = try TemplatePieces(source, cuts: check.cuts, file: "letter.en.mustache")
        #expect(cut.pieces.count == check.cuts.count + 1)
        for note in [nil, "My own note\nover two lines"] {
            var supporter = Self.supporter
            supporter.personalNote = note
            for target in [Self.embassy, { var official = Self.embassy; official.kind = .official; return official }()] {
                let context = LetterValues(campaign: Self.campaign, supporter: supporter, target: target, language: "en", date: "18 November 2026",
                                           names: LocalizedNames()).mustacheContext
                #expect(cut.render(context) == whole.render(context))
            }
        }
    }

    @Test("a template larger than 1 MB, or an outermost section of more than 500 tags, is refused at once")
    func tooLarge() {
        let big = String(repeating: "Lorem ipsum {{supporter.name}} dolor sit amet.\n", count: 30_000)
        #expect(issues { _ = try Self.template(big) }.first?.message.contains("at most 1048576 bytes (1 MB)") == true)
        let crowded = "{{#campaign.demands}}" + String(repeating: "{{.}}", count: 600) + "{{/campaign.demands}}"
        #expect(issues { _ = try Self.template(crowded) }.first?.message.contains("more than 500 tags") == true)
    }
}
