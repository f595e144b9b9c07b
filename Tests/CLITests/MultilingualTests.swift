import Foundation
import Testing
import TestSupport

@Suite("A letter in German is German throughout", .serialized)
struct MultilingualTests {
    /// The example campaign with a German version: demands and salutations by language.
    static func germanCampaign(_ cli: CLIRunner) throws -> String {
        let folder = try StrictInputTests.campaignCopy(cli) { json in
            json.replacingOccurrences(of: "\"languages\": [\"en\", \"fr\"]", with: "\"languages\": [\"en\", \"fr\", \"de\"]")
                .replacingOccurrences(of: "\"demands\": [", with: """
                    "demands": { "de": ["Lassen Sie Rufat Safarov sofort und bedingungslos frei"],
                                 "fr": ["Libérez immédiatement Rufat Safarov"],
                                 "en":  [
                    """)
                .replacingOccurrences(of: "  ],\n  \"languages\"", with: "  ]},\n  \"languages\"")
        }
        try "Aserbaidschan: Freiheit für Rufat Safarov\n".write(toFile: "\(folder)/subject.de.mustache", atomically: true, encoding: .utf8)
        try """
            {{target.salutation}},

            {{#campaign.demands}}
            - {{.}}
            {{/campaign.demands}}

            {{supporter.name}}
            """.write(toFile: "\(folder)/letter.de.mustache", atomically: true, encoding: .utf8)
        var targets = try String(contentsOfFile: "\(folder)/targets.csv", encoding: .utf8).components(separatedBy: "\n")
        targets[0] += ",salutation_de"
        for index in 1..<targets.count where !targets[index].isEmpty {
            targets[index] += index == 1 ? ",Sehr geehrter Herr Präsident" : ","
        }
        try targets.joined(separator: "\n").write(toFile: "\(folder)/targets.csv", atomically: true, encoding: .utf8)
        return folder
    }

    @Test("demands and salutations given per language are used in that language; others fall back to the first")
    func german() throws {
        let cli = try CLIRunner()
        let folder = try Self.germanCampaign(cli)
        #expect(try cli.run("init").code == 0)
        let create = try cli.run("campaign", "create", folder)
        #expect(create.code == 0, "\(create.stderr)")
        #expect(try cli.run("supporter", "import", "\(folder)/supporters.sample.csv", "--campaign", CLIRunner.slug).code == 0)
        let german = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "juergen.mueller@example.net")
        #expect(german.stdout.contains("Sehr geehrter Herr Präsident,") && german.stdout.contains("- Lassen Sie Rufat Safarov sofort"), "\(german.stdout)")
        #expect(!german.stdout.contains("Your Excellency,\n") || german.stdout.contains("Dear Prosecutor General"))
        #expect(!german.stdout.contains("Immediately and unconditionally release"))
        let english = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "elodie.marchand@example.net")
        #expect(english.stdout.contains("Immediately and unconditionally release") && !english.stdout.contains("Lassen Sie"))
        #expect(english.stdout.contains("Your Excellency,") && !english.stdout.contains("Sehr geehrter"))
    }

    @Test("demands in a language the campaign does not list are refused")
    func unknownLanguage() throws {
        let cli = try CLIRunner()
        let folder = try StrictInputTests.campaignCopy(cli) { json in
            json.replacingOccurrences(of: "\"demands\": [", with: "\"demands\": { \"it\": [\"Liberate\"], \"en\": [")
                .replacingOccurrences(of: "  ],\n  \"languages\"", with: "  ]},\n  \"languages\"")
        }
        #expect(try cli.run("init").code == 0)
        let create = try cli.run("campaign", "create", folder)
        #expect(create.code == 2 && create.stderr.contains("demands: \"it\" is not one of the campaign's languages"), "\(create.stderr)")
    }
}

@Suite("Language tags are one language whatever their case")
struct LanguageTagTests {
    @Test("pt-br, pt_BR and PT-BR are pt-BR, in supporters' languages and salutation columns alike")
    func regionCase() throws {
        let cli = try CLIRunner()
        let folder = try StrictInputTests.campaignCopy(cli) { json in
            json.replacingOccurrences(of: "\"languages\": [\"en\", \"fr\"]", with: "\"languages\": [\"en\", \"fr\", \"pt-BR\"]")
        }
        try "Azerbaijão: libertem Rufat Safarov\n".write(toFile: "\(folder)/subject.pt-BR.mustache", atomically: true, encoding: .utf8)
        try "{{target.salutation}},\n\nLibertem Rufat Safarov.\n".write(toFile: "\(folder)/letter.pt-BR.mustache", atomically: true, encoding: .utf8)
        var targets = try String(contentsOfFile: "\(folder)/targets.csv", encoding: .utf8).components(separatedBy: "\n")
        targets[0] += ",salutation_pt-br"
        for index in 1..<targets.count where !targets[index].isEmpty { targets[index] += ",Excelentíssimo Senhor" }
        try targets.joined(separator: "\n").write(toFile: "\(folder)/targets.csv", atomically: true, encoding: .utf8)
        #expect(try cli.run("init").code == 0)
        let create = try cli.run("campaign", "create", folder)
        #expect(create.code == 0, "\(create.stderr)")
        #expect(try cli.run("supporter", "add", "--campaign", CLIRunner.slug, "--name", "Ana Souza", "--email", "ana@example.net",
                            "--language", "pt_br").code == 0)
        let letter = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "ana@example.net")
        #expect(letter.stdout.contains("Language: pt-BR") && letter.stdout.contains("Excelentíssimo Senhor,\n\nLibertem"), "\(letter.stdout)")
    }
}
