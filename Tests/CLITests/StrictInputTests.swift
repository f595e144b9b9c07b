import Foundation
import Testing
import TestSupport

@Suite("Configuration and campaign files are read strictly", .serialized)
struct StrictInputTests {
    static let badURLs: [(url: String, words: String)] = [
        ("smtp://127.0.0.1:99999", "invalid port"),
        ("smtp://127.0.0.1:0", "invalid port"),
        ("smtp://127.0.0.1:25x", "invalid port"),
        ("smtp://127.0.0.1:2525/relay", "path, query or fragment"),
        ("smtp://127.0.0.1:2525?auth=plain", "path, query or fragment"),
        ("ftp://127.0.0.1", "is not smtp://host:port"),
        ("smtp://:2525", "no valid host"),
        ("smtp://bob:Hunter2-SECRET@127.0.0.1:2525", "user name or password"),
        ("smtp://bob@127.0.0.1:2525", "user name or password"),
        ("smtp://bob:Hunter2/pw@127.0.0.1:587", "user name or password"),
        ("smtp://bob:Hunter2?pw@127.0.0.1:465", "user name or password"),
        ("smtp:/bob:Hunter2@127.0.0.1", "is not smtp://host:port"),
        ("smtp:///bob:Hunter2@127.0.0.1:465", "user name or password"),
    ]

    @Test("an invalid smtp.url exits 2 naming smtp.url, prints no user-info, and touches no letter", arguments: badURLs)
    func invalidURL(_ url: String, _ words: String) throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try cli.writeConfig(url: url)
        for command in [["send", "--verbose"], ["status", "--campaign", CLIRunner.slug]] {
            let result = try cli.run(command)
            #expect(result.code == 2, "\(command): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("appeal.json:2: smtp.url") && result.stderr.contains(words), "\(result.stderr)")
            #expect(!result.stderr.contains("Hunter2") && !result.stdout.contains("Hunter2") && !result.stderr.contains("bob"))
        }
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        let letters = try #require(try cli.statusJSON()["letters"] as? [String: Int])
        #expect(letters["queued"] == 95 && letters["deferred"] == 0)
    }

    @Test("limits are bounded above as well as below: a back-off of centuries is refused")
    func boundedLimits() throws {
        let cli = try CLIRunner()
        try """
            { "limits": { "retryBaseSeconds": 9000000000000000000, "maxAttempts": 1000 } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        let result = try cli.run("init")
        #expect(result.code == 2 && result.stderr.contains("limits.retryBaseSeconds: must be from 1 to 86400")
                && result.stderr.contains("limits.maxAttempts: must be from 1 to 100"), "\(result.stderr)")
    }

    @Test("a key written twice in campaign.json or the config is refused with its line")
    func duplicateKeys() throws {
        let cli = try CLIRunner()
        try """
            { "database": "a.sqlite",
              "smtp": { "url": "file://outbox",
                        "url": "smtp://127.0.0.1:25" } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        let config = try cli.run("init")
        #expect(config.code == 2 && config.stderr.contains("appeal.json:3: url: appears twice"), "\(config.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.path("a.sqlite")))

        try FileManager.default.removeItem(atPath: cli.path("appeal.json"))
        let folder = try Self.campaignCopy(cli) { json in
            json.replacingOccurrences(of: "\"status\": \"active\",", with: "\"status\": \"active\",\n  \"status\": \"draft\",")
        }
        #expect(try cli.run("init").code == 0)
        let create = try cli.run("campaign", "create", folder)
        #expect(create.code == 2 && create.stderr.contains("campaign.json:14: status: appears twice"), "\(create.stderr)")
        #expect(try cli.run("campaign", "list").stdout.contains("no campaigns"))
    }

    @Test("sendingHours is exactly HH:MM-HH:MM", arguments: ["-08:00-20:00", "+8:00-20:00", "08:00-20:00-", "8:00-20:00", "08::00-20:00", " 08:00-20:00", "08:00-08:00"])
    func strictSendingHours(_ hours: String) throws {
        let cli = try CLIRunner()
        let folder = try Self.campaignCopy(cli) { json in
            json.replacingOccurrences(of: "\"status\": \"active\",", with: "\"status\": \"active\",\n  \"sendingHours\": \"\(hours)\",")
        }
        #expect(try cli.run("init").code == 0)
        let create = try cli.run("campaign", "create", folder)
        #expect(create.code == 2 && create.stderr.contains("sendingHours"), "\(create.stderr)")
    }

    @Test("an empty subject or letter template is refused", arguments: ["subject.en.mustache", "letter.fr.mustache"])
    func emptyTemplate(_ name: String) throws {
        let cli = try CLIRunner()
        let folder = try Self.campaignCopy(cli) { $0 }
        try " \n\n".write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8)
        #expect(try cli.run("init").code == 0)
        let create = try cli.run("campaign", "create", folder)
        #expect(create.code == 2 && create.stderr.contains("\(name): is empty"), "\(create.stderr)")
    }

    @Test("after the deadline nothing new is queued, and send warns that queued letters still go out")
    func deadline() throws {
        let cli = try CLIRunner()
        let folder = try Self.campaignCopy(cli) { json in
            json.replacingOccurrences(of: "\"deadline\": \"2027-03-31\"", with: "\"deadline\": \"2020-01-31\"")
        }
        #expect(try cli.run("init").code == 0)
        #expect(try cli.run("campaign", "create", folder).code == 0)
        #expect(try cli.run("supporter", "import", "\(folder)/supporters.sample.csv", "--campaign", CLIRunner.slug).code == 0)
        let queue = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(queue.code == 2 && queue.stderr.contains("deadline 2020-01-31 has passed"), "\(queue.stderr)")
        #expect((try cli.statusJSON()["letters"] as? [String: Int])?["queued"] == 0)
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        let send = try cli.run("send")
        #expect(send.code == 0 && send.stderr.contains("deadline 2020-01-31 has passed"), "\(send.stderr)")
    }

    /// A copy of the example campaign folder, its campaign.json changed by `edit`.
    static func campaignCopy(_ cli: CLIRunner, name: String = "campaign", edit: (String) -> String) throws -> String {
        let folder = cli.path(name)
        try FileManager.default.copyItem(atPath: CLIRunner.exampleCampaign, toPath: folder)
        let json = try String(contentsOfFile: "\(folder)/campaign.json", encoding: .utf8)
        try edit(json).write(toFile: "\(folder)/campaign.json", atomically: true, encoding: .utf8)
        return folder
    }
}
