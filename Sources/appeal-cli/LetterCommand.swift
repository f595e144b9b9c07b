import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation
import Mailer

struct LetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "letter", abstract: "Show a supporter's letters, or list a campaign's letters.",
        subcommands: [Show.self, List.self], defaultSubcommand: Show.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a campaign's letters: target, supporter, status, attempts, last reply.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option(help: "Only letters in this status: queued, sending, sent, deferred, failed, cancelled or bounced.") var status: LetterStatus?
        @Option(help: "At most this many letters.") var limit = 1000

        func run() async throws {
            let (campaign, status, limit) = (campaign, status, limit)
            let letters = try await options.onStore(
                sqlite: { database throws(AppealsError) in try database.letters(campaign: campaign, status: status, limit: limit) },
                postgres: { store throws(AppealsError) in try await store.letters(campaign: campaign, status: status, limit: limit) })
            if letters.isEmpty { print("no letters\(status.map { " \($0.rawValue)" } ?? "") in \(campaign)") }
            for letter in letters {
                let supporter = letter.supporterEmail.map { "\(letter.supporterName) <\($0)>" } ?? "(erased)"
                let reply = letter.lastReply.map { "\t\(terminalSafe($0))" } ?? ""
                print("\(letter.status.rawValue)\t\(letter.attempts) attempt\(letter.attempts == 1 ? "" : "s")\t\(letter.targetName) <\(letter.targetEmail)>\t\(supporter)\(reply)")
            }
        }
    }
}

extension LetterCommand {
  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a supporter's letters, one per target, as text (the default) or as the email that is sent; `letter` alone does this.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, eml
    }

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String
    @Option(help: "The supporter's email.") var supporter: String
    @Option(help: "text or eml.") var format: Format = .text
    @Option(help: "Write one file per target into this folder instead of printing.") var out: String?

    func run() async throws {
        let config = try options.loadConfig()
        let (now, campaign, supporter) = (Date(), campaign, supporter)
        let (person, previews) = try await options.onStore(sqlite: { database throws(AppealsError) in
            try database.previewLetters(campaign: campaign, supporterEmail: supporter, now: now)
        }, postgres: { store throws(AppealsError) in
            try await store.previewLetters(campaign: campaign, supporterEmail: supporter, now: now)
        })
        if person.consent == false {
            print("no letters: \(supporter) said no to consent, so nothing is written or sent in their name")
            return
        }
        let ids = MessageIDGenerator(domain: config.sender.domain)
        var documents: [(name: String, text: String)] = []
        for (index, preview) in previews.enumerated() {
            let text: String
            switch format {
            case .text:
                let title = preview.target.title.isEmpty ? "" : ", \(preview.target.title)"
                text = """
                    To: \(preview.target.name)\(title) <\(preview.target.email)>
                    Subject: \(preview.letter.subject)
                    Language: \(preview.letter.language)\(preview.stored.map { " · \($0.status.rawValue)" } ?? " · not queued yet")

                    \(preview.letter.body)
                    """
            case .eml:
                do {
                    text = try MailMessage.appeal(
                        subject: preview.letter.subject, body: preview.letter.body, messageID: preview.stored?.messageId ?? ids.next(),
                        supporter: person, target: preview.target, sender: config.sender, date: now
                    ).rendered()
                } catch {
                    printError(error.description)
                    throw ExitCode(2)
                }
            }
            documents.append((Self.fileName(index: index + 1, target: preview.target, format: format), text))
        }
        guard let out else {
            for (index, document) in documents.enumerated() {
                if index > 0 { print("\n" + String(repeating: "-", count: 72) + "\n") }
                print(document.text, terminator: "")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for document in documents {
                let path = URL(fileURLWithPath: out).appendingPathComponent(document.name).path
                try Data(document.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                print(path)
            }
        } catch {
            printError("cannot write letters to \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
    }

    /// `01-official-ilham-aliyev.txt`: ordered as printed, readable, ASCII only.
    static func fileName(index: Int, target: Target, format: Format) -> String {
        let folded = target.name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        let words = folded.lowercased().split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) })
        let slug = words.joined(separator: "-").prefix(48)
        return String(format: "%02d", index) + "-\(target.kind.rawValue)-\(slug.isEmpty ? "target" : slug).\(format == .text ? "txt" : "eml")"
    }
}
}
