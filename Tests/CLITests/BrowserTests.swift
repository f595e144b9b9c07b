import Foundation
import Testing
import TestSupport

/// The supporter's whole journey through `appeal-cli serve` in headless Chromium (driven by Selenium from
/// `Tests/Browser/journey.py`), with the sender running in the same process, then the dashboard.
/// Screenshots are saved under `test-output/screenshots/`.
@Suite("A supporter's journey in a real browser", .serialized)
struct BrowserTests {
    static let secret = "browser-test-secret-0123456789"
    static let screenshots = CLIRunner.packageRoot.appendingPathComponent("test-output/screenshots")

    @Test("Form, preview, confirmation link from the outbox, letters sent by the running sender, dashboard; SIGTERM exits 0")
    func journey() throws {
        let cli = try CLIRunner()
        try #require(try cli.run("init").code == 0)
        try #require(try cli.run("campaign", "create", CLIRunner.exampleCampaign).code == 0)
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        try """
            { "smtp": { "url": "file://./outbox" }, "limits": { "messagesPerSecond": 0 },
              "web": { "listen": "127.0.0.1:\(port)", "baseURL": "\(base)" } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        let serve = try cli.start(["serve", "--poll-seconds", "1"], environment: ["APPEAL_ADMIN_SECRET": Self.secret])
        defer { if serve.process.isRunning { serve.process.terminate() } }
        try #require(cli.waitUntil { (try? String(contentsOfFile: serve.errFile.path, encoding: .utf8))?.contains("Server started") == true })

        let journey = try Self.runJourney(base: base, outbox: cli.path("outbox"))
        #expect(journey["previewLetters"] as? Int == 5)
        #expect(journey["lettersListed"] as? Int == 5)
        #expect(journey["noteShownAsText"] as? Bool == true)
        #expect(journey["scriptsInPage"] as? Int == 0)
        #expect((journey["phoneOverflow"] as? Int ?? 1) <= 0, "the page is wider than a phone")
        #expect(journey["dashboardSent"] as? String == "5")
        #expect((journey["chart"] as? Int ?? 0) == 24)
        #expect((journey["consoleErrors"] as? [String])?.isEmpty == true, "\(journey["consoleErrors"] ?? "")")
        #expect((journey["secondsToSent"] as? Double ?? 99) < 60)
        for name in ["campaign-desktop", "campaign-phone", "preview", "letters", "dashboard"] {
            let size = try FileManager.default.attributesOfItem(atPath: Self.screenshots.appendingPathComponent("\(name).png").path)[.size] as? Int
            #expect((size ?? 0) > 10_000, "\(name).png")
        }

        let letters = try cli.statusJSON()["letters"] as? [String: Int]
        #expect(letters?["sent"] == 5)
        // Every letter went out once, with the note as the supporter typed it.
        let messages = try PythonEmail.parse(files: FileManager.default.contentsOfDirectory(at: URL(fileURLWithPath: cli.path("outbox")),
                                                                                            includingPropertiesForKeys: nil))
        let sentLetters = messages.filter { $0.replyTo.map(\.address) == ["journey@example.com"] }
        #expect(sentLetters.count == 5)
        #expect(Set(sentLetters.flatMap { $0.to.map(\.address) }).count == 5)
        #expect(sentLetters.allSatisfy { $0.body.contains("<script>alert(\"x\")</script>") })

        serve.process.terminate()
        let stopped = try serve.finish()
        #expect(stopped.code == 0 && !stopped.signaled, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("send --watch stopped"))
    }

    @Test("Two serve processes on one PostgreSQL database behind a round-robin proxy: the journey's requests alternate between them and it ends as with one; limits, confirmations and the outbox are shared")
    func twoServersOnPostgres() throws {
        let cli = try CLIRunner(store: .postgres)
        try #require(try cli.run("init").code == 0)
        try #require(try cli.run("campaign", "create", CLIRunner.exampleCampaign).code == 0)
        let ports = try (0..<3).map { _ in try freePort() }
        try #require(Set(ports).count == 3)
        let base = "http://127.0.0.1:\(ports[2])"
        for (name, port) in zip(["a", "b"], ports) {
            try """
                { "smtp": { "url": "file://./outbox" }, "limits": { "messagesPerSecond": 0 },
                  "web": { "listen": "127.0.0.1:\(port)", "baseURL": "\(base)", "emailsPerAddressPerHour": 2 } }
                """.write(toFile: cli.path("\(name).json"), atomically: true, encoding: .utf8)
        }
        let servers = try ["a", "b"].map { try cli.start(["--config", "\($0).json", "serve", "--poll-seconds", "1"], environment: ["APPEAL_ADMIN_SECRET": Self.secret]) }
        defer { servers.forEach { if $0.process.isRunning { $0.process.terminate() } } }
        for server in servers {
            try #require(cli.waitUntil { (try? String(contentsOfFile: server.errFile.path, encoding: .utf8))?.contains("Server started") == true })
        }
        let proxy = Process()
        proxy.executableURL = CLIRunner.packageRoot.appendingPathComponent(".venv/bin/python")
        proxy.arguments = [CLIRunner.packageRoot.appendingPathComponent("Tests/Servers/round_robin_proxy.py").path, "\(ports[2])", "\(ports[0])", "\(ports[1])"]
        let ready = Pipe()
        proxy.standardOutput = ready
        try proxy.run()
        defer {
            kill(proxy.processIdentifier, SIGKILL)
            proxy.waitUntilExit()
        }
        #expect(ready.fileHandleForReading.availableData.starts(with: Data("ready".utf8)))

        // The supporter's journey through the proxy: form, preview, submit, link, letters and dashboard, each
        // request at the next server.
        let journey = try Self.runJourney(base: base, outbox: cli.path("outbox"), screenshots: Self.screenshots.appendingPathComponent("postgres"))
        #expect(journey["previewLetters"] as? Int == 5)
        #expect(journey["lettersListed"] as? Int == 5)
        #expect(journey["dashboardSent"] as? String == "5")
        #expect((journey["consoleErrors"] as? [String])?.isEmpty == true, "\(journey["consoleErrors"] ?? "")")

        let shared = try Self.runPython("Tests/Browser/shared_servers.py", [base, "http://127.0.0.1:\(ports[0])", "http://127.0.0.1:\(ports[1])",
                                                                           CLIRunner.slug, cli.path("outbox")])
        let submitted = try #require(shared["submitted"] as? [[String: Any]])
        #expect(submitted.map { $0["status"] as? Int } == [303, 303, 429, 429], "\(submitted)")
        #expect(Set(submitted.compactMap { $0["server"] as? String }).count == 2, "\(submitted)")
        #expect(shared["confirmationEmails"] as? Int == 2)
        let confirmed = try #require(shared["confirmed"] as? [[String: Any]])
        let token = try #require(shared["firstToken"] as? String)
        #expect(confirmed.allSatisfy { $0["status"] as? Int == 303 && ($0["location"] as? String)?.hasPrefix("/letters/\(token)") == true }, "\(confirmed)")
        #expect(shared["withdrawn"] as? Int == 200)
        #expect(shared["withdrawnLinkAtOther"] as? Int == 404)

        // Two supporters, ten letters, each sent once by one of the two senders.
        #expect(cli.waitUntil(seconds: 60) { ((try? cli.statusJSON())?["letters"] as? [String: Int])?["sent"] == 10 })
        let status = try cli.statusJSON()
        #expect(status["supporters"] as? Int == 2, "\(status)")
        let messages = try PythonEmail.parse(files: FileManager.default.contentsOfDirectory(at: URL(fileURLWithPath: cli.path("outbox")),
                                                                                            includingPropertiesForKeys: nil))
        let letters = messages.filter { !$0.subject.hasPrefix("Confirm") }
        #expect(letters.count == 10 && Set(letters.map(\.messageId)).count == 10)
        #expect(messages.filter { $0.subject.hasPrefix("Confirm") }.count == 3)

        for server in servers { server.process.terminate() }
        for server in servers {
            let stopped = try server.finish()
            #expect(stopped.code == 0 && !stopped.signaled, "\(stopped.stderr)")
        }
    }

    /// Runs the Selenium script; its last line of output is a JSON summary.
    static func runJourney(base: String, outbox: String, screenshots: URL = screenshots) throws -> [String: Any] {
        try runPython("Tests/Browser/journey.py", [base, CLIRunner.slug, outbox, secret, screenshots.path])
    }

    /// Runs a Python script of the tests with the tests' virtual environment; its last line of output is a JSON summary.
    static func runPython(_ script: String, _ arguments: [String]) throws -> [String: Any] {
        let python = CLIRunner.packageRoot.appendingPathComponent(".venv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python.path), "run scripts/setup --tests")
        let process = Process()
        process.executableURL = python
        process.arguments = [CLIRunner.packageRoot.appendingPathComponent(script).path] + arguments
        let output = Pipe()
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("python-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let problems = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        try #require(process.terminationStatus == 0, "\(script) failed: \(problems)")
        let last = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last)
        return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }
}
