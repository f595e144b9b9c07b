import Foundation
import Testing
import TestSupport

@Suite("Secrets and personal data", .serialized)
struct SecretsTests {
    static let password = "Tr0ub4dor&3-SECRET-7f3a"

    /// Every file under `folder`, as bytes.
    static func files(under folder: String) -> [(String, Data)] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.compactMap { name in
            FileManager.default.contents(atPath: folder + "/" + name).map { (name, $0) }
        }
    }

    @Test("the SMTP password appears in no output, log, error, database, export or lock file; files are 0600")
    func passwordNeverLeaks() throws {
        let server = try SMTPTestServer(["--starttls", "--auth", "alice:\(Self.password)"])
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: server.url, extra: ", \"username\": \"alice\", \"caFile\": \"\(server.certificate)\", \"security\": \"starttls\"")
        let config = try String(contentsOfFile: cli.path("appeal.json"), encoding: .utf8)
        try config.replacingOccurrences(of: "\"security\": \"none\", ", with: "").write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        var outputs: [CLIRunner.Result] = []
        outputs.append(try cli.run(["queue", "--campaign", CLIRunner.slug, "--verbose"]))
        // The secret offered as a wrong password, then the right one: neither may show anywhere.
        let wrong = try cli.run(["send", "--verbose"], environment: ["APPEAL_SMTP_PASSWORD": Self.password + "-wrong"])
        #expect(wrong.code == 2)
        outputs.append(wrong)
        let right = try cli.run(["send", "--verbose"], environment: ["APPEAL_SMTP_PASSWORD": Self.password])
        #expect(right.code == 0, "\(right.stderr)")
        #expect(right.stderr.contains("send run") && right.stderr.contains("250"), "--verbose logs each step")
        outputs.append(right)
        outputs.append(try cli.run(["export", "--campaign", CLIRunner.slug, "--out", "letters.csv", "--verbose"]))
        outputs.append(try cli.run(["status", "--campaign", CLIRunner.slug, "--json", "--verbose"]))
        outputs.append(try cli.run(["letter", "--campaign", CLIRunner.slug, "--supporter", "elodie.marchand@example.net", "--format", "eml", "--verbose"]))

        let secrets = [Self.password, Data(Self.password.utf8).base64EncodedString(), Data("\0alice\0\(Self.password)".utf8).base64EncodedString()]
        for output in outputs {
            for secret in secrets {
                #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret))
            }
        }
        let stored = Self.files(under: cli.folder.path)
        #expect(stored.contains { $0.0 == "appeals.sqlite" } && stored.contains { $0.0 == "letters.csv" })
        for (name, data) in stored where name != "appeal.json" {
            for secret in secrets {
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(name) holds the password")
            }
        }
        for name in ["appeals.sqlite", "appeals.sqlite-wal", "appeals.sqlite-shm", "letters.csv"] where FileManager.default.fileExists(atPath: cli.path(name)) {
            let mode = try FileManager.default.attributesOfItem(atPath: cli.path(name))[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600, "\(name)")
        }
        #expect(try server.received().count == 95)
    }

    @Test("supporter erase removes the personal data from the database file, keeping the counts")
    func erasure() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        _ = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(try cli.run("send").code == 0)
        let before = try cli.statusJSON()
        let holders = Self.files(under: cli.folder.path).filter { $0.0.hasPrefix("appeals.sqlite") && $0.1.range(of: Data("elodie.marchand@example.net".utf8)) != nil }
        #expect(!holders.isEmpty, "before erasure the database holds the address")
        let result = try cli.run("supporter", "erase", "--campaign", CLIRunner.slug, "--email", "Elodie.Marchand@example.net")
        #expect(result.code == 0)
        #expect(result.stdout.contains("5 letters emptied"))
        let after = try cli.statusJSON()
        #expect(after["supporters"] as? Int == before["supporters"] as? Int)
        #expect(after["letters"] as? [String: Int] == before["letters"] as? [String: Int])
        for (name, data) in Self.files(under: cli.folder.path) where name.hasPrefix("appeals.sqlite") {
            for personal in ["elodie.marchand@example.net", "Élodie Marchand", "As a lawyer in Lyon"] {
                #expect(data.range(of: Data(personal.utf8)) == nil, "\(name) still holds \(personal)")
            }
        }
        let export = try cli.run("export", "--campaign", CLIRunner.slug)
        #expect(!export.stdout.contains("elodie.marchand"))
        #expect(try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "elodie.marchand@example.net").code == 2)
        #expect(try cli.run("supporter", "erase", "--campaign", CLIRunner.slug, "--email", "elodie.marchand@example.net").code == 2)
    }
}
