import Foundation

/// What Python's `email` package reads back from a message.
public struct ParsedMessage: Decodable, Sendable {
    public struct Mailbox: Decodable, Equatable, Sendable {
        public var name: String
        public var address: String

        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }

    public var headerNames: [String]
    public var from: [Mailbox]
    public var replyTo: [Mailbox]
    public var to: [Mailbox]
    public var cc: [Mailbox]
    public var bcc: [Mailbox]
    public var subject: String
    public var messageId: String
    public var date: String
    public var contentType: String
    public var charset: String?
    public var body: String
    public var defects: [String]
    public var bareLineBreaks: Int
    public var longestLine: Int
}

public enum PythonEmail {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `message` with Python's email package, policy `default`.
    public static func parse(_ message: String) throws -> ParsedMessage {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("message-\(UUID().uuidString).eml")
        try Data(message.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try parse(file: file)
    }

    /// Parses the message in `file`.
    public static func parse(file: URL) throws -> ParsedMessage {
        try JSONDecoder().decode(ParsedMessage.self, from: run([file]))
    }

    /// Parses many messages with one Python process, in order.
    public static func parse(files: [URL]) throws -> [ParsedMessage] {
        if files.count == 1 { return [try parse(file: files[0])] }
        return try JSONDecoder().decode([ParsedMessage].self, from: run(files))
    }

    private static func run(_ files: [URL]) throws -> Data {
        try Python.output(of: [Fixtures.servers.appendingPathComponent("parse_message.py").path] + files.map(\.path))
    }
}

/// Runs the system python3: Python's standard library is the independent parser the tests check against.
public enum Python {
    /// The standard output of `python3 arguments…`.
    /// - Throws: ``PythonEmail/Failure`` when python3 exits with an error.
    public static func output(of arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PythonEmail.Failure(description: "python3 failed: \(arguments)") }
        return data
    }
}
