import Foundation
import Testing
import TestSupport

@Suite("A campaign folder changed after the campaign started", .serialized)
struct CampaignUpdateTests {
    @Test("campaign update applies the folder, writes unsent letters again, leaves sent ones, and says what changed", arguments: StoreKind.allCases)
    func update(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        let folder = try StrictInputTests.campaignCopy(cli) { $0 }
        #expect(try cli.run("init").code == 0)
        #expect(try cli.run("campaign", "create", folder).code == 0)
        #expect(try cli.run("supporter", "import", "\(folder)/supporters.sample.csv", "--campaign", CLIRunner.slug).code == 0)
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("send", "--limit", "30").code == 0)

        // A new demand, a corrected letter that now uses the postal address, a new embassy, a minister's new address.
        let json = try String(contentsOfFile: "\(folder)/campaign.json", encoding: .utf8)
        try json.replacingOccurrences(of: "\"demands\": [", with: "\"demands\": [\n    \"Allow independent monitors to visit him\",")
            .write(toFile: "\(folder)/campaign.json", atomically: true, encoding: .utf8)
        let letter = try String(contentsOfFile: "\(folder)/letter.en.mustache", encoding: .utf8)
        try (letter + "\n(Also sent by post to {{target.postalAddress}}.)\n").write(toFile: "\(folder)/letter.en.mustache", atomically: true, encoding: .utf8)
        var targets = try String(contentsOfFile: "\(folder)/targets.csv", encoding: .utf8)
        targets = targets.replacingOccurrences(of: "minister.justice@example.org", with: "justice.minister@example.org")
        targets += "embassy,Embassy of Azerbaijan in Norway,Ambassador,Your Excellency,embassy.no@example.net,NO,en,,,Europe/Oslo\n"
        try targets.write(toFile: "\(folder)/targets.csv", atomically: true, encoding: .utf8)

        let update = try cli.run("campaign", "update", folder)
        #expect(update.code == 0, "\(update.stderr)")
        #expect(update.stdout.contains("changed in campaign.json: demands") && update.stdout.contains("templates changed for: en")
                && update.stdout.contains("targets added: justice.minister@example.org, embassy.no@example.net")
                && update.stdout.contains("no longer in targets.csv, kept until `target remove`: minister.justice@example.org")
                && update.stdout.contains("65 unsent letters written again"), "\(update.stdout)")
        let preview = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "mai.nguyen@example.net")
        #expect(preview.stdout.contains("Allow independent monitors to visit him") && preview.stdout.contains("(Also sent by post to 19 Istiglaliyyat Street"),
                "\(preview.stdout)")
        // The 30 letters already sent keep the text they were sent with.
        let outbox = try FileManager.default.contentsOfDirectory(atPath: cli.path("outbox"))
        #expect(outbox.count == 30)
        #expect(try outbox.allSatisfy { !String(decoding: try Data(contentsOf: URL(fileURLWithPath: cli.path("outbox/\($0)"))), as: UTF8.self).contains("independent monitors") })
        #expect(try cli.run("queue", "--campaign", CLIRunner.slug).stdout.hasPrefix("queued 21 letters"))
        #expect(try cli.run("campaign", "update", folder).stdout.contains("nothing changed"))
    }

    @Test("campaign update checks the folder as create does, and a slug cannot change", arguments: StoreKind.allCases)
    func refused(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        let folder = try StrictInputTests.campaignCopy(cli) { $0 }
        #expect(try cli.run("init").code == 0)
        #expect(try cli.run("campaign", "create", folder).code == 0)
        try "Dear {{target.salutaton}}\n".write(toFile: "\(folder)/letter.fr.mustache", atomically: true, encoding: .utf8)
        let bad = try cli.run("campaign", "update", folder)
        #expect(bad.code == 2 && bad.stderr.contains("letter.fr.mustache:1: unknown variable target.salutaton"), "\(bad.stderr)")
        let renamed = try StrictInputTests.campaignCopy(cli, name: "renamed") { $0.replacingOccurrences(of: "\"azerbaijan-rufat-safarov\"", with: "\"rufat-safarov\"") }
        let slug = try cli.run("campaign", "update", renamed)
        #expect(slug.code == 2 && slug.stderr.contains("no campaign rufat-safarov: a campaign's slug cannot change"), "\(slug.stderr)")
    }
}
