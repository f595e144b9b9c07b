import Foundation
import Testing
@testable import Mailer

/// What Python's `email` package reads back from a message.
struct ParsedMessage: Decodable {
    struct Mailbox: Decodable, Equatable {
        var name: String
        var address: String
    }

    var headerNames: [String]
    var from: [Mailbox]
    var replyTo: [Mailbox]
    var to: [Mailbox]
    var cc: [Mailbox]
    var bcc: [Mailbox]
    var subject: String
    var messageId: String
    var date: String
    var contentType: String
    var charset: String?
    var body: String
    var defects: [String]
    var bareLineBreaks: Int
    var longestLine: Int
}

enum PythonEmail {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Parses `message` with Python's email package, policy `default`.
    static func parse(_ message: String) throws -> ParsedMessage {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("message-\(UUID().uuidString).eml")
        try Data(message.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", fixtures.appendingPathComponent("parse_message.py").path, file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 could not parse the message")
        return try JSONDecoder().decode(ParsedMessage.self, from: data)
    }
}
