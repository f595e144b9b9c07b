import Foundation
import Testing
import TestSupport

@Suite("appeal-cli end to end", .serialized)
struct CLITests {
    @Test("a supporter in France gets five letters: four officials and the embassy in France, each with its own salutation", arguments: StoreKind.allCases)
    func lettersForFrance(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let result = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "elodie.marchand@example.net")
        #expect(result.code == 0)
        let recipients = result.stdout.split(separator: "\n").filter { $0.hasPrefix("To: ") }.map { $0.split(separator: "<").last ?? "" }
        #expect(recipients == ["president@example.org>", "prosecutor-general@example.org>", "minister.justice@example.org>",
                               "minister.foreign-affairs@example.org>", "embassy.fr@example.net>"])
        let salutations = result.stdout.split(separator: "\n").filter { ["Your Excellency,", "Dear Prosecutor General,", "Dear Minister of Justice,", "Dear Minister of Foreign Affairs,"].contains(String($0)) }
        #expect(salutations == ["Your Excellency,", "Dear Prosecutor General,", "Dear Minister of Justice,", "Dear Minister of Foreign Affairs,", "Your Excellency,"])
        #expect(result.stdout.contains("As the representative of Azerbaijan in France"))
        #expect(result.stdout.contains("As a lawyer in Lyon"))
        #expect(!result.stdout.contains("&#39;") && !result.stdout.contains("&amp;"))
    }

    @Test("a supporter in a country without an embassy writes to the officials only", arguments: StoreKind.allCases)
    func lettersWithoutEmbassy(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let result = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "bjorn.haland@example.net")
        #expect(result.code == 0)
        #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("To: ") }.count == 4)
        #expect(!result.stdout.contains("embassy"))
    }

    @Test("--out writes one file per target; --format eml writes the emails", arguments: StoreKind.allCases)
    func lettersToFiles(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let result = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "chloe.dubois@example.org", "--format", "eml", "--out", "out")
        #expect(result.code == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: cli.path("out")).sorted()
        #expect(files == ["01-official-ilham-aliyev.eml", "02-official-kamran-aliyev.eml", "03-official-farid-ahmadov.eml",
                          "04-official-jeyhun-bayramov.eml", "05-embassy-embassy-of-the-republic-of-azerbaijan-in-belgium.eml"])
        let eml = try String(contentsOfFile: cli.path("out/05-embassy-embassy-of-the-republic-of-azerbaijan-in-belgium.eml"), encoding: .utf8)
        #expect(eml.contains("\r\nReply-To: =?UTF-8?B?Q2hsb8Op?= Dubois <chloe.dubois@example.org>\r\n"))
        #expect(eml.contains("\r\nFrom: =?UTF-8?B?Q2hsb8Op?= Dubois via Urgent Appeals <appeals@example.org>\r\n"))
    }

    @Test("queue is idempotent and status --json reports its documented shape", arguments: StoreKind.allCases)
    func queueAndStatus(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let first = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(first.code == 0)
        #expect(first.stdout.hasPrefix("queued 95 letters (0 already queued) for 20 supporters"))
        let second = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(second.stdout.hasPrefix("queued 0 letters (95 already queued)"))
        let status = try cli.statusJSON()
        #expect(Array(status.keys).sorted() == ["bounces", "campaign", "letters", "possibleDuplicates", "supporters", "supportersWithoutEmbassy", "targets"])
        #expect(status["supporters"] as? Int == 20)
        #expect(status["supportersWithoutEmbassy"] as? Int == 5)
        let letters = try #require(status["letters"] as? [String: Int])
        #expect(letters == ["queued": 95, "sending": 0, "sent": 0, "deferred": 0, "failed": 0, "cancelled": 0, "bounced": 0])
        let targets = try #require(status["targets"] as? [[String: Any]])
        #expect(targets.count == 14)
        #expect(targets.first?["pending"] as? Int == 20)
    }

    @Test("a bad supporters file exits 2, names every bad line and changes nothing", arguments: StoreKind.allCases)
    func badImport(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let before = try cli.statusJSON()["supporters"] as? Int
        let result = try cli.run("supporter", "import", CLIRunner.fixtures.appendingPathComponent("supporters-bad-cli.csv").path, "--campaign", CLIRunner.slug)
        #expect(result.code == 2)
        #expect(result.stderr.contains("supporters-bad-cli.csv:3: email:"))
        #expect(result.stderr.contains("supporters-bad-cli.csv:4: country: \"ZZ\""))
        #expect(!result.stderr.contains("supporters-bad-cli.csv:2"))
        #expect(try cli.statusJSON()["supporters"] as? Int == before)
    }

    @Test("a campaign folder with an unknown template variable exits 2 with file:line and stores nothing", arguments: StoreKind.allCases)
    func badCampaign(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try FileManager.default.copyItem(atPath: CLIRunner.exampleCampaign, toPath: cli.path("campaign"))
        let letter = cli.path("campaign/letter.en.mustache")
        var text = try String(contentsOfFile: letter, encoding: .utf8)
        text += "\n{{supporter.phone}}\n"
        try text.write(toFile: letter, atomically: true, encoding: .utf8)
        #expect(try cli.run("init").code == 0)
        let result = try cli.run("campaign", "create", "campaign")
        #expect(result.code == 2)
        #expect(result.stderr.contains("campaign/letter.en.mustache:"))
        #expect(result.stderr.contains(": unknown variable supporter.phone; the variables are campaign.demands, campaign.organization"))
        #expect(try cli.run("campaign", "list").stdout == "no campaigns\n")
    }

    @Test("bad arguments and unknown names exit 2", arguments: [
        ["queue"],
        ["status", "--campaign", "no-such-campaign"],
        ["letter", "--campaign", CLIRunner.slug, "--supporter", "nobody@example.org"],
        ["supporter", "add", "--campaign", CLIRunner.slug, "--name", "X", "--email", "x@example.org", "--country", "Narnia"],
        ["status", "--campaign", CLIRunner.slug, "--frobnicate"],
    ], StoreKind.allCases)
    func exitCodes(_ arguments: [String], _ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let result = try cli.run(arguments)
        #expect(result.code == 2, "\(arguments): \(result.stderr)")
        #expect(!result.stderr.isEmpty)
    }

    @Test("a config file with an unknown key or a password exits 2 naming the key and line")
    func badConfig() throws {
        let cli = try CLIRunner()
        let result = try cli.run("--config", CLIRunner.fixtures.appendingPathComponent("config-bad.json").path, "init")
        #expect(result.code == 2)
        #expect(result.stderr.contains("config-bad.json:5: smtp.password: the SMTP password is never stored in a file"))
        #expect(result.stderr.contains("config-bad.json:6: smtp.conections: unknown key"))
        #expect(!result.stderr.contains("hunter2"))
        #expect(!FileManager.default.fileExists(atPath: cli.path("x.sqlite")))
    }

    @Test("a bad row after thousands of good ones refuses the whole file: nothing of it is stored", arguments: StoreKind.allCases)
    func lateBadRow(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let file = try cli.writeSupporters(9_000)
        try (try String(contentsOfFile: file, encoding: .utf8) + "Late,not-an-address,FR,Lyon,en\n").write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try cli.run("supporter", "import", file, "--campaign", CLIRunner.slug)
        #expect(refused.code == 2 && refused.stderr.contains("supporters.csv:9002: email:"), "\(refused.stderr)")
        #expect(try cli.statusJSON()["supporters"] as? Int == 20)
        // With --skip-invalid the good rows go in, and importing them again adds nobody.
        let skipped = try cli.run("supporter", "import", file, "--campaign", CLIRunner.slug, "--skip-invalid")
        #expect(skipped.code == 0 && skipped.stdout.hasPrefix("imported 9000 supporters"), "\(skipped.stdout.prefix(200)) \(skipped.stderr)")
        #expect(skipped.stderr.contains("supporters.csv:9002: email:"))
        let again = try cli.run("supporter", "import", file, "--campaign", CLIRunner.slug, "--skip-invalid")
        #expect(again.stdout.hasPrefix("imported 0 supporters") && again.stdout.contains("9000 already present"), "\(again.stdout.prefix(200))")
        #expect(try cli.statusJSON()["supporters"] as? Int == 9_020)
    }

    @Test("two imports of one list, in opposite orders, at once: both finish, each address stored once", arguments: StoreKind.allCases)
    func concurrentImports(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let file = try cli.writeSupporters(4_000)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        try ([String(lines[0])] + lines.dropFirst().reversed().map(String.init)).joined(separator: "\n").appending("\n")
            .write(toFile: cli.path("reversed.csv"), atomically: true, encoding: .utf8)
        let runs = try [file, cli.path("reversed.csv")].map { try cli.start(["supporter", "import", $0, "--campaign", CLIRunner.slug]) }
        let results = try runs.map { try $0.finish() }
        #expect(results.allSatisfy { $0.code == 0 }, "\(results.map(\.stderr))")
        let imported = results.compactMap { Int($0.stdout.split(separator: " ")[1]) }
        #expect(imported.reduce(0, +) == 4_000, "\(results.map { $0.stdout.prefix(80) })")
        #expect(try cli.statusJSON()["supporters"] as? Int == 4_020)
    }

    @Test("three queue runs at once queue each letter once", arguments: StoreKind.allCases)
    func concurrentQueues(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        _ = try cli.writeSupporters(3_000)
        try #require(try cli.run("supporter", "import", "supporters.csv", "--campaign", CLIRunner.slug).code == 0)
        let runs = try (0..<3).map { _ in try cli.start(["queue", "--campaign", CLIRunner.slug]) }
        let results = try runs.map { try $0.finish() }
        #expect(results.allSatisfy { $0.code == 0 }, "\(results.map(\.stderr))")
        // 3,020 supporters: 3,000 in France write to five targets, the samples to 95 letters in all.
        let queued = results.compactMap { Int($0.stdout.split(separator: " ")[1]) }
        #expect(queued.reduce(0, +) == 15_095, "\(results.map(\.stdout))")
        let letters = try #require(try cli.statusJSON()["letters"] as? [String: Int])
        #expect(letters["queued"] == 15_095)
    }
}

@Suite("appeal-cli against hostile files", .serialized)
struct HostileFileTests {
    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test("random bytes, invalid UTF-8, a 10 MB field, a million columns: exit 2 with the line, nothing written", arguments: [
        "random", "utf8", "bigfield", "wide",
    ], StoreKind.allCases)
    func hostileFiles(_ kind: String, _ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        var random = SeededRandom(seed: 99)
        let bytes: [UInt8] = switch kind {
        case "random": Array("name,email\n".utf8) + (0..<5000).map { _ in UInt8.random(in: 0...255, using: &random) }
        case "utf8": Array("name,email\nJ\u{FC}rgen,j@example.org\n".utf8) + [0x4A, 0xFC, 0x72, 0x2C] + Array("x@example.org\n".utf8)
        case "bigfield": Array("name,email\nA,\"".utf8) + [UInt8](repeating: 0x79, count: 10_000_000) + Array("\"\n".utf8)
        default: Array(String(repeating: "name,", count: 1_000_000).utf8) + Array("email\n".utf8)
        }
        try Self.write(bytes, to: cli.path("hostile.csv"))
        let before = try cli.statusJSON()["supporters"] as? Int
        let result = try cli.run("supporter", "import", "hostile.csv", "--campaign", CLIRunner.slug)
        #expect(result.code == 2, "\(result.stderr.prefix(300))")
        #expect(result.stderr.hasPrefix("error: hostile.csv:"))
        #expect(result.stderr.count < 2000)
        #expect(try cli.statusJSON()["supporters"] as? Int == before)
    }
}
