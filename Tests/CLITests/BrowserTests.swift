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

    /// Runs the Selenium script; its last line of output is a JSON summary.
    static func runJourney(base: String, outbox: String) throws -> [String: Any] {
        let python = CLIRunner.packageRoot.appendingPathComponent(".venv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python.path), "run scripts/setup --tests")
        let process = Process()
        process.executableURL = python
        process.arguments = [CLIRunner.packageRoot.appendingPathComponent("Tests/Browser/journey.py").path, base, CLIRunner.slug, outbox,
                             secret, screenshots.path]
        let output = Pipe()
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("journey-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let problems = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        try #require(process.terminationStatus == 0, "journey.py failed: \(problems)")
        let last = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last)
        return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }
}
