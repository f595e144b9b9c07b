import Foundation
import Testing
import TestSupport
@testable import Appeals

@Suite("Letters rendered from skeletons")
struct LetterSkeletonTests {
    /// Sections on every supporter value, `{{.}}` inside them, values next to text and to each other,
    /// white space in the subject, and a template line that starts with a combining mark.
    static let letter = """
        {{target.name}}
        {{#supporter.city}}{{.}}, {{/supporter.city}}{{date}}
        {{^supporter.city}}(no city){{/supporter.city}}
        Dear {{target.salutation}},
        {{#campaign.demands}}
        - {{.}} ({{supporter.name}})
        {{/campaign.demands}}
        {{#personalNote}}

        {{personalNote}}
        {{/personalNote}}
        {{#target.isEmbassy}}In {{target.countryName}}{{/target.isEmbassy}}
        {{supporter.name}}{{supporter.email}}<{{supporter.language}}>
        \u{301}{{supporter.countryName}} {{supporter.country}}


        """

    static func composer(letter: String = letter) throws -> LetterComposer {
        var campaign = TemplateTests.campaign
        campaign.languages = ["en", "fr"]
        let templates = try ["en", "fr"].map { language in
            try LetterTemplate(language: language, subject: "  {{supporter.name}}\t{{campaign.title}}  {{supporter.city}}\n",
                               subjectFile: "subject.\(language).mustache", letter: letter, letterFile: "letter.\(language).mustache")
        }
        return try LetterComposer(campaign: campaign, templates: templates, timeZone: TimeZone(identifier: "UTC")!)
    }

    static func supporter(_ random: inout SeededRandom) -> Supporter {
        func maybe(_ text: String) -> String? { Bool.random(using: &random) ? text : nil }
        var supporter = TemplateTests.supporter
        supporter.name = HostileText.make(&random, maxPieces: 8)
        supporter.email = maybe(HostileText.make(&random, maxPieces: 4))
        supporter.city = maybe(HostileText.make(&random, maxPieces: 4))
        supporter.country = maybe(["FR", "AZ", "DE", "NO"].randomElement(using: &random)!)
        supporter.language = maybe(["en", "fr", "fr-CA", "de"].randomElement(using: &random)!)
        supporter.personalNote = maybe(HostileText.make(&random, maxPieces: 30))
        return supporter
    }

    @Test("a letter from a skeleton is byte for byte the letter swift-mustache renders", arguments: [1, 2, 3] as [UInt64])
    func sameBytes(seed: UInt64) throws {
        let composer = try Self.composer()
        var random = SeededRandom(seed: seed)
        var official = TemplateTests.embassy
        official.id = 10
        official.kind = .official
        official.country = nil
        for _ in 0..<300 {
            let supporter = Self.supporter(&random)
            for target in [TemplateTests.embassy, official] {
                let fast = composer.compose(supporter: supporter, target: target, now: TestDatabase.fixedNow)
                let full = composer.composeInFull(supporter: supporter, target: target, now: TestDatabase.fixedNow)
                #expect(Array(fast.subject.utf8) == Array(full.subject.utf8), "seed \(seed): \(supporter)")
                #expect(Array(fast.body.utf8) == Array(full.body.utf8), "seed \(seed): \(supporter)")
                #expect(fast.language == full.language)
            }
        }
    }

    @Test("values holding the private-use markers are filled in as text, never as holes")
    func markersInValues() throws {
        let composer = try Self.composer()
        var supporter = TemplateTests.supporter
        supporter.name = "\u{E000}\u{E006}"
        supporter.personalNote = "note \u{E001}"
        let letter = composer.compose(supporter: supporter, target: TemplateTests.embassy, now: TestDatabase.fixedNow)
        #expect(letter == composer.composeInFull(supporter: supporter, target: TemplateTests.embassy, now: TestDatabase.fixedNow))
        #expect(letter.body.contains("\u{E000}\u{E006}s@example.org<fr>"))
        #expect(letter.body.contains("\nnote \u{E001}\n"))
    }

    @Test("a target or a template holding a marker is rendered in full, and rightly")
    func markersInFixedText() throws {
        var target = TemplateTests.embassy
        target.name = "Embassy \u{E000}"
        let composer = try Self.composer()
        #expect(composer.compose(supporter: TemplateTests.supporter, target: target, now: TestDatabase.fixedNow).body.hasPrefix("Embassy \u{E000}\nLyon, "))
        let marked = try Self.composer(letter: "\u{E003}{{supporter.name}}")
        #expect(marked.compose(supporter: TemplateTests.supporter, target: TemplateTests.embassy, now: TestDatabase.fixedNow).body
                == "\u{E003}Siobhán O'Brien & Co\n")
    }

    @Test("subjects are folded by bytes exactly as by characters")
    func folding() {
        var random = SeededRandom(seed: 7)
        let samples = ["", " ", "a", " a  b\t\nc ", "Azerbaïdjan : libérez", "a \u{301}b", "a\u{00A0}b", "a\u{3000}b", "x\r\ny", "🕊️ a"]
            + (0..<2000).map { _ in HostileText.make(&random, maxPieces: 10) }
        for text in samples {
            #expect(Array(LetterTemplate.folded(text).utf8) == Array(LetterTemplate.foldedByCharacters(text).utf8), "\(text.debugDescription)")
        }
    }

    @Test("Message-IDs are version 7 UUIDs on the sender's domain: time first, then random")
    func messageIDs() {
        #expect(MessageIDGenerator.uuid(milliseconds: 0, random: 0, 0) == "00000000-0000-7000-8000-000000000000")
        #expect(MessageIDGenerator.uuid(milliseconds: 0xFFFF_FFFF_FFFF, random: .max, .max) == "ffffffff-ffff-7fff-bfff-ffffffffffff")
        #expect(MessageIDGenerator.uuid(milliseconds: 0x0193_5F2A_1B2C, random: 0xABC, 0xFEDC_BA98_7654_3210)
                == "01935f2a-1b2c-7abc-bedc-ba9876543210")
        let ids = MessageIDGenerator(domain: "example.org", clock: { Date(timeIntervalSince1970: 1_763_856_000) })
        let made = (0..<1000).map { _ in ids.next() }
        #expect(Set(made).count == 1000)
        #expect(made.allSatisfy { $0.wholeMatch(of: /<019aae02-a400-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@example\.org>/) != nil })
        let later = MessageIDGenerator(domain: "example.org", clock: { Date(timeIntervalSince1970: 1_763_856_000.001) }).next()
        #expect(made.allSatisfy { $0 < later })
    }
}
