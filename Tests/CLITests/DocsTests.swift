import Foundation
import Testing
import TestSupport

@Suite("The documentation's worked example works as written", .serialized)
struct DocsTests {
    /// The "complete minimal example" of docs/reference.md: its files, and its console session.
    static func example() throws -> (files: [String: String], session: [(command: [String], output: String)]) {
        let reference = try String(contentsOf: CLIRunner.packageRoot.appendingPathComponent("docs/reference.md"), encoding: .utf8)
        let start = try #require(reference.range(of: "### A complete minimal example"))
        let lines = reference[start.upperBound...].components(separatedBy: "\n").prefix { !$0.hasPrefix("## ") }
        var files: [String: String] = [:]
        var session: [(command: [String], output: String)] = []
        var pendingName: String?
        var block: [String]?
        var blockKind = ""
        for line in lines {
            if var current = block {
                if line == "```" {
                    if blockKind == "console" {
                        for entry in current where entry.hasPrefix("$ appeal-cli ") {
                            session.append((Array(entry.dropFirst("$ appeal-cli ".count).split(separator: " ").map(String.init)), ""))
                        }
                        var output: [String: String] = [:]
                        var command: String?
                        for entry in current {
                            if entry.hasPrefix("$ ") { command = entry } else if let command { output[command, default: ""] += entry + "\n" }
                        }
                        for (index, step) in session.enumerated() where output["$ appeal-cli " + step.command.joined(separator: " ")] != nil {
                            session[index].output = output["$ appeal-cli " + step.command.joined(separator: " ")]!
                        }
                    } else if let name = pendingName {
                        files[name] = current.joined(separator: "\n") + "\n"
                    }
                    block = nil
                    pendingName = nil
                } else {
                    current.append(line)
                    block = current
                }
                continue
            }
            if line.hasPrefix("```") {
                block = []
                blockKind = String(line.dropFirst(3))
            } else if line.hasSuffix(":"), case let parts = line.components(separatedBy: "`"), parts.count >= 3, parts[1].contains(".") {
                pendingName = parts[1]
            }
        }
        return (files, session)
    }

    @Test("a new organizer's campaign folder, written from docs/reference.md alone, is created, imported and queued as it says")
    func workedExample() throws {
        let (files, session) = try Self.example()
        #expect(Set(files.keys) == ["free-jane-doe/campaign.json", "free-jane-doe/subject.en.mustache", "free-jane-doe/letter.en.mustache",
                                    "free-jane-doe/targets.csv", "supporters.csv"], "\(files.keys)")
        #expect(session.count >= 4)
        let cli = try CLIRunner()
        try FileManager.default.createDirectory(atPath: cli.path("free-jane-doe"), withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: cli.path(name), atomically: true, encoding: .utf8) }
        for step in session {
            let result = try cli.run(step.command)
            #expect(result.code == 0, "\(step.command): \(result.stderr)")
            #expect(result.stdout == step.output, "\(step.command)")
        }
        let ada = try cli.run("letter", "--campaign", "free-jane-doe", "--supporter", "ada@example.net")
        #expect(ada.stdout.contains("Dear Minister,") && ada.stdout.contains("I met Jane at a conference in 2023.\nShe is a tireless advocate."))
    }
}
