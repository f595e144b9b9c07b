import Appeals
import Foundation
import Testing
import TestSupport

/// Reading bounces from the files mail systems leave: a Maildir taken one message at a time, and an mbox read
/// as a stream.
@Suite struct MailboxFileTests {
    /// A temporary folder, removed when the test ends.
    final class Folder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("appeal-mailbox-\(UUID().uuidString)").path

        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func maildir() throws -> Maildir {
            for sub in ["new", "cur", "tmp"] {
                try FileManager.default.createDirectory(atPath: "\(path)/\(sub)", withIntermediateDirectories: false)
            }
            return try Maildir(path: path)
        }

        func write(_ name: String, _ text: String) {
            _ = FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(text.utf8))
        }

        func read(_ name: String) -> String? {
            FileManager.default.contents(atPath: "\(path)/\(name)").map { String(decoding: $0, as: UTF8.self) }
        }

        func names(_ sub: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: "\(path)/\(sub)").sorted() }
    }

    /// Claims, reads and finishes every waiting message; the texts read, and the reasons for those not read.
    static func drain(_ maildir: Maildir) throws -> (texts: [String], unread: [String: String]) {
        var texts: [String] = [], unread: [String: String] = [:]
        for waiting in maildir.waiting() {
            switch maildir.claim(waiting) {
            case .claimed(let claim):
                texts.append(String(decoding: try maildir.read(claim, limit: 1 << 20).bytes, as: UTF8.self))
                maildir.done(claim)
            case .taken: break
            case .unreadable(let reason): unread[waiting.name] = reason
            }
        }
        return (texts, unread)
    }

    @Test("names that differ only in their flags, or repeat an earlier message's name, never replace a message")
    func collidingNames() throws {
        let folder = try Folder()
        let maildir = try folder.maildir()
        folder.write("cur/1700000000.a.host:2,S", "yesterday's")
        folder.write("new/1700000000.a.host", "first")
        folder.write("new/1700000000.a.host:2,", "second")
        folder.write("new/1700000001.b.host:2,F", "flagged")
        let (texts, unread) = try Self.drain(maildir)
        #expect(texts.sorted() == ["first", "flagged", "second"])
        #expect(unread.isEmpty)
        #expect(try folder.names("new").isEmpty)
        let cur = try folder.names("cur")
        #expect(cur.count == 4 && cur.allSatisfy { $0.hasSuffix("S") }, "\(cur)")
        #expect(Set(cur.compactMap { folder.read("cur/\($0)") }) == ["yesterday's", "first", "second", "flagged"])
        #expect(cur.contains("1700000001.b.host:2,FS"))
        // Nothing is waiting any more.
        #expect(maildir.waiting().isEmpty)
    }

    @Test("folders, links, pipes and sockets are named and never opened; a file that turns into one after it was listed is reported, not read")
    func oddEntries() throws {
        let folder = try Folder()
        let maildir = try folder.maildir()
        folder.write("secret", "root:secret")
        try FileManager.default.createDirectory(atPath: folder.path + "/new/folder", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/new/link", withDestinationPath: folder.path + "/secret")
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/new/dangling", withDestinationPath: folder.path + "/nowhere")
        #expect(mkfifo(folder.path + "/new/pipe", 0o600) == 0)
        folder.write("new/swapped", "a message")
        folder.write("new/swapped-to-pipe", "another")
        let waiting = maildir.waiting()
        // Between the listing and the claim, two messages are replaced: by a link and by a named pipe.
        try FileManager.default.removeItem(atPath: folder.path + "/new/swapped")
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/new/swapped", withDestinationPath: folder.path + "/secret")
        try FileManager.default.removeItem(atPath: folder.path + "/new/swapped-to-pipe")
        #expect(mkfifo(folder.path + "/new/swapped-to-pipe", 0o600) == 0)
        var unread: [String: String] = [:]
        for message in waiting {
            // A pipe opened for reading would block this run forever: claiming must not.
            if case .unreadable(let reason) = maildir.claim(message) { unread[message.name] = reason }
        }
        #expect(unread["folder"]?.contains("a folder") == true)
        #expect(unread["link"]?.contains("symbolic link") == true)
        #expect(unread["dangling"]?.contains("symbolic link") == true)
        #expect(unread["pipe"]?.contains("named pipe") == true)
        #expect(unread["swapped"]?.contains("symbolic link") == true, "\(unread)")
        #expect(unread["swapped-to-pipe"]?.contains("not a regular file") == true, "\(unread)")
        #expect(unread.count == 6)
    }

    @Test("a message claimed by a run that died is taken over; one a live run holds is left to it")
    func takeOver() throws {
        let folder = try Folder()
        let maildir = try folder.maildir()
        folder.write("cur/1.dead.host:2,", "left by a dead run")
        folder.write("new/2.live.host", "held")
        let held = try #require(maildir.waiting().first { $0.name == "2.live.host" })
        guard case .claimed(let claim) = maildir.claim(held) else { Issue.record("not claimed"); return }
        let (texts, unread) = try Self.drain(maildir)
        #expect(texts == ["left by a dead run"] && unread.isEmpty)
        #expect(try folder.names("cur").contains("2.live.host:2,"))
        maildir.done(claim)
        #expect(try folder.names("cur") == ["1.dead.host:2,S", "2.live.host:2,S"])
    }

    @Test("an mbox is read message by message: From_ lines only after an empty line, >From unquoted, long lines whole, a huge message counted")
    func mbox() throws {
        let folder = try Folder()
        // A 200 KiB line whose 64 KiB pieces would start with ">From " and lose the ">" if taken for lines.
        let piece = ">From " + String(repeating: "x", count: (1 << 16) - 6)
        let long = String(repeating: "z", count: 1 << 16) + String(repeating: piece, count: 2) + "\n"
        let huge = String(repeating: "y", count: InboundMessage.maxBytes + 1000) + "\n"
        let text = "From a@example.org Tue Dec  1 02:47:00 2026\r\nSubject: one\r\n\r\nbody\r\nFrom inside a paragraph\r\n>From quoted\r\n\r\n"
            + "From b@example.org Tue Dec  1 02:47:01 2026\nSubject: two\n\n" + long + "\n"
            + "From c@example.org Tue Dec  1 02:47:02 2026\nSubject: three\n\n" + huge
        folder.write("box", text)
        let mbox = try Mbox(path: folder.path + "/box")
        var messages: [(bytes: [UInt8], size: Int)] = []
        while let message = try mbox.next() { messages.append(message) }
        #expect(messages.count == 3 && mbox.count == 3)
        #expect(String(decoding: messages[0].bytes, as: UTF8.self) == "Subject: one\r\n\r\nbody\r\nFrom inside a paragraph\r\nFrom quoted\r\n")
        #expect(String(decoding: messages[1].bytes, as: UTF8.self) == "Subject: two\n\n" + long)
        #expect(messages[2].bytes.count == InboundMessage.maxBytes)
        #expect(messages[2].size == "Subject: three\n\n".utf8.count + huge.utf8.count)
    }

    @Test("the last message keeps its last line end when no empty line follows it: the same message as fed alone, also once the file grows")
    func lastMessage() throws {
        let folder = try Folder()
        let message = "From: a@b.org\nSubject: hi\n\nline1\n"
        folder.write("box", "From M Tue Dec  1 00:00:00 2026\n" + message)
        var mbox = try Mbox(path: folder.path + "/box")
        #expect(try mbox.next()?.bytes == Array(message.utf8))
        folder.write("box", "From M Tue Dec  1 00:00:00 2026\n" + message + "\nFrom N Tue Dec  1 00:00:01 2026\n" + message + "\n")
        mbox = try Mbox(path: folder.path + "/box")
        #expect(try mbox.next()?.bytes == Array(message.utf8))
        #expect(try mbox.next()?.bytes == Array(message.utf8))
        #expect(try mbox.next() == nil)
    }

    @Test("a file that is not an mbox is refused before anything is read; an empty one holds no message")
    func notAnMbox() throws {
        let folder = try Folder()
        folder.write("message.eml", "From: someone@example.org\nSubject: a single message\n\nbody\n")
        #expect {
            _ = try Mbox(path: folder.path + "/message.eml")
        } throws: { error in
            "\(error)".contains("message.eml:1") && "\(error)".contains("does not start with a \"From \" line")
        }
        #expect(throws: AppealsError.self) { _ = try Mbox(path: folder.path) }
        #expect(throws: AppealsError.self) { _ = try Mbox(path: folder.path + "/missing") }
        // A named pipe would block a reader until something writes: refused at once.
        #expect(mkfifo(folder.path + "/pipe", 0o600) == 0)
        #expect(throws: AppealsError.self) { _ = try Mbox(path: folder.path + "/pipe") }
        folder.write("empty", "")
        #expect(try Mbox(path: folder.path + "/empty").next() == nil)
    }
}
