import Foundation

/// One of the test SMTP servers (`Tests/Servers/smtp_server.py`), listening on 127.0.0.1 until stopped.
public final class SMTPTestServer: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What the server received: the raw message and its envelope.
    public struct Received: Sendable {
        public var file: URL
        public var data: Data
        public var mailFrom: String
        public var recipients: [String]
        public var authUser: String?
        public var tls: Bool
    }

    public let port: Int
    public let folder: URL
    private let process: Process
    private let input: Pipe

    public var certificate: String { folder.appendingPathComponent("cert.pem").path }
    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// Starts a server; see the script for the options (`--starttls`, `--smtps`, `--auth U:P`, `--fault KIND`…).
    public init(_ options: [String] = []) throws {
        let python = Fixtures.packageRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure(description: "\(python.path) is missing: run scripts/setup --tests")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = python
        process.arguments = [Fixtures.servers.appendingPathComponent("smtp_server.py").path, "--out", folder.appendingPathComponent("mail").path,
                             "--tls-dir", folder.path] + options
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        let log = folder.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // The server prints "READY <port>" once it listens; it closes its output if it fails to start.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            let reason = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw Failure(description: "the test SMTP server did not start: \(text) \(reason)")
        }
        self.port = port
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Stops the server and waits for it to exit.
    public func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }

    /// Every message received so far, in order.
    public func received() throws -> [Received] {
        let mail = folder.appendingPathComponent("mail")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: mail.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { name in
            let file = mail.appendingPathComponent(name)
            let meta = mail.appendingPathComponent(name.replacingOccurrences(of: ".eml", with: ".json"))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: meta)) as? [String: Any] ?? [:]
            return Received(file: file, data: try Data(contentsOf: file), mailFrom: json["mail_from"] as? String ?? "",
                            recipients: json["rcpt_tos"] as? [String] ?? [], authUser: json["auth_user"] as? String,
                            tls: json["tls"] as? Bool ?? false)
        }
    }

    /// A port on 127.0.0.1 where nothing listens.
    public static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
