import Appeals
import ArgumentParser
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "One CSV row per letter: supporter, target, status, attempts, last reply, sent time, Message-ID.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Option(help: "Only letters in this status: queued, sending, sent, deferred, failed or cancelled.") var status: LetterStatus?

    func run() throws {
        let database = try options.openDatabase()
        do {
            let output = try out.map(OutputFile.init(path:)) ?? OutputFile()
            try reporting { () throws(AppealsError) in
                try database.exportLetters(campaign: campaign, status: status) { try output.write($0) }
            }
            try output.finish()
        } catch let failure as OutputFile.Failure {
            printError(failure.description)
            throw ExitCode(failure.isUserError ? 2 : 1)
        }
        if let out { print("exported \(campaign) to \(out)") }
    }
}

extension LetterStatus: ExpressibleByArgument {}
