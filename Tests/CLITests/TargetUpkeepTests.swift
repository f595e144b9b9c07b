import Foundation
import Testing
import TestSupport

@Suite("Targets change while a campaign runs", .serialized)
struct TargetUpkeepTests {
    static func target(_ email: String, in status: [String: Any]) throws -> [String: Any] {
        try #require((status["targets"] as? [[String: Any]])?.first { $0["email"] as? String == email })
    }

    @Test("target update: unsent letters are written again for the new address and name; sent ones keep theirs", arguments: StoreKind.allCases)
    func update(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("send", "--limit", "10").code == 0)
        let sentBefore = try #require(try Self.target("president@example.org", in: try cli.statusJSON())["sent"] as? Int)
        let update = try cli.run("target", "update", "--campaign", CLIRunner.slug, "--email", "president@example.org",
                                 "--new-email", "head.of.state@example.org", "--name", "Alia Newname", "--salutation", "Dear President")
        #expect(update.code == 0, "\(update.stderr)")
        #expect(update.stdout.contains("\(20 - sentBefore) unsent letters written again"), "\(update.stdout)")
        let preview = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "mai.nguyen@example.net")
        #expect(preview.stdout.contains("To: Alia Newname") && preview.stdout.contains("<head.of.state@example.org>") && preview.stdout.contains("Dear President,"))
        #expect(try cli.run("send").code == 0)
        let status = try cli.statusJSON()
        #expect(try Self.target("head.of.state@example.org", in: status)["sent"] as? Int == 20)
        let outbox = try FileManager.default.contentsOfDirectory(atPath: cli.path("outbox")).map {
            String(decoding: FileManager.default.contents(atPath: cli.path("outbox/\($0)")) ?? Data(), as: UTF8.self)
        }
        #expect(outbox.filter { $0.contains("<president@example.org>") }.count == sentBefore)
        #expect(outbox.filter { $0.contains("<head.of.state@example.org>") && $0.contains("Alia Newname") }.count == 20 - sentBefore)
        let taken = try cli.run("target", "update", "--campaign", CLIRunner.slug, "--email", "head.of.state@example.org", "--new-email", "prosecutor-general@example.org")
        #expect(taken.code == 2 && taken.stderr.contains("already another target"), "\(taken.stderr)")
        let bad = try cli.run("target", "update", "--campaign", CLIRunner.slug, "--email", "head.of.state@example.org", "--timezone", "Mars/Olympus")
        #expect(bad.code == 2 && bad.stderr.contains("timezone"), "\(bad.stderr)")
    }

    @Test("target disable holds its letters (status shows them, retry leaves them); enable lets them go", arguments: StoreKind.allCases)
    func disableEnable(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let disable = try cli.run("target", "disable", "--campaign", CLIRunner.slug, "--email", "president@example.org")
        #expect(disable.code == 0 && disable.stdout.contains("20 letters held"), "\(disable.stdout)")
        #expect(try cli.run("send").code == 0)
        var president = try Self.target("president@example.org", in: try cli.statusJSON())
        #expect(president["disabled"] as? Bool == true && president["held"] as? Int == 20 && president["sent"] as? Int == 0)
        #expect(try cli.run("status", "--campaign", CLIRunner.slug).stdout.contains("DISABLED (disabled by the organizer), 20 held"))
        let enable = try cli.run("target", "enable", "--campaign", CLIRunner.slug, "--email", "president@example.org")
        #expect(enable.code == 0 && enable.stdout.contains("20 held letters will go out"), "\(enable.stdout)")
        #expect(try cli.run("send").code == 0)
        president = try Self.target("president@example.org", in: try cli.statusJSON())
        #expect(president["disabled"] as? Bool == false && president["held"] as? Int == 0 && president["sent"] as? Int == 20)
    }

    @Test("retry leaves the letters of a disabled target alone and says so", arguments: StoreKind.allCases)
    func retryHeld(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        let server = try cli.sendRefusingThePresident()
        defer { server.stop() }
        let retry = try cli.run("retry", "--campaign", CLIRunner.slug)
        #expect(retry.code == 0 && retry.stdout.contains("0 letters of") && retry.stdout.contains("1 more letter stays held"), "\(retry.stdout)")
    }

    @Test("target remove cancels its unsent letters, keeps the counts, and queue writes to it no more", arguments: StoreKind.allCases)
    func remove(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("send", "--limit", "10").code == 0)
        let remove = try cli.run("target", "remove", "--campaign", CLIRunner.slug, "--email", "president@example.org")
        #expect(remove.code == 0, "\(remove.stderr)")
        let status = try cli.statusJSON()
        let president = try Self.target("president@example.org", in: status)
        let sent = try #require(president["sent"] as? Int)
        #expect(remove.stdout.contains("\(20 - sent) unsent letters cancelled"), "\(remove.stdout)")
        #expect(president["removed"] as? Bool == true && president["pending"] as? Int == 0)
        #expect((status["letters"] as? [String: Int])?["cancelled"] == 20 - sent)
        #expect(try cli.run("supporter", "add", "--campaign", CLIRunner.slug, "--name", "New One", "--email", "new@example.net").code == 0)
        #expect(try cli.run("queue", "--campaign", CLIRunner.slug).stdout.hasPrefix("queued 3 letters"))
        #expect(try cli.run("target", "enable", "--campaign", CLIRunner.slug, "--email", "president@example.org").code == 2)
    }

    @Test("targets at their hourly limit hold nobody else up: a letter far down the queue to another target goes out in the same run",
          arguments: StoreKind.allCases)
    func hourlyLimitHoldsNobodyUp(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        // 300 supporters in France: 1,500 letters to the officials and the embassy in France come first; one in
        // Germany last. At 10 letters per target and hour, the officials and France are full after 50 letters.
        _ = try cli.writeSupporters(300, country: "FR", name: "france.csv")
        try #require(try cli.run("supporter", "import", "france.csv", "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("supporter", "add", "--campaign", CLIRunner.slug, "--name", "Last One", "--email", "last@example.de",
                                 "--country", "DE").code == 0)
        try cli.writeConfig(url: "file://\(cli.path("outbox"))", extra: "", perSecond: 0)
        var config = try String(contentsOfFile: cli.path("appeal.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\"messagesPerSecond\": 0", with: "\"messagesPerSecond\": 0, \"perTargetPerHour\": 10")
        try config.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let sent = try cli.run("send")
        #expect(sent.code == 0, "\(sent.stderr)")
        let status = try cli.statusJSON()
        #expect(try Self.target("president@example.org", in: status)["sent"] as? Int == 10)
        #expect(try Self.target("embassy.fr@example.net", in: status)["sent"] as? Int == 10)
        // The embassy in Germany: the Germans among the samples and the last supporter, all sent.
        let germany = try Self.target("embassy.de@example.net", in: status)
        #expect(germany["sent"] as? Int == 3 && germany["pending"] as? Int == 0, "\(germany)")
    }
}
