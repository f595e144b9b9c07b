import Appeals
import ArgumentParser
import Foundation
import Mailer

struct SupporterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supporter", abstract: "Import or add supporters.", subcommands: [Import.self, Add.self, Erase.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add supporters from a CSV file: name,email,country,city,language,consent,personal_note (name and email required).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @Option(help: "The campaign's slug.") var campaign: String
        @Flag(help: "Import the good rows and list the bad ones, instead of rejecting the file.") var skipInvalid = false

        func run() async throws {
            let (file, campaign, skipInvalid) = (file, campaign, skipInvalid)
            let report = try await options.onStore(sqlite: { database throws(AppealsError) in
                try database.importSupporters(try CSVFile(path: file, known: Supporter.csvColumns, required: Supporter.csvRequiredColumns),
                                              campaign: campaign, skipInvalid: skipInvalid)
            }, postgres: { store throws(AppealsError) in
                try await store.importSupporters(try CSVFile(path: file, known: Supporter.csvColumns, required: Supporter.csvRequiredColumns),
                                                 campaign: campaign, skipInvalid: skipInvalid)
            })
            printImport(report, noun: "supporter", campaign: campaign)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add one supporter.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option var name: String
        @Option var email: String
        @Option(help: "ISO 3166-1 alpha-2 code, such as FR.") var country: String?
        @Option var city: String?
        @Option(help: "Language code, such as fr.") var language: String?
        @Option(help: "A paragraph of the supporter's own, inserted into the letter.") var note: String?

        func run() async throws {
            var values = ["name": name, "email": email]
            values["country"] = country
            values["city"] = city
            values["language"] = language
            values["personal_note"] = note
            let (campaign, added) = (campaign, values)
            let report = try await options.onStore(sqlite: { database throws(AppealsError) in try database.addSupporter(added, campaign: campaign) },
                                                   postgres: { store throws(AppealsError) in try await store.addSupporter(added, campaign: campaign) })
            if report.imported == 1 {
                print("added \(email) to \(campaign)")
            } else {
                print("\(email) is already a supporter of \(campaign): nothing added")
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a supporter's personal data (name, email, city, note, letters' bodies), keeping the counts.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option(help: "The supporter's email.") var email: String

        func run() async throws {
            let config = try options.loadConfig()
            let (email, campaign) = (email, campaign)
            let report = try await options.onStore(sqlite: { database throws(AppealsError) in try database.eraseSupporter(email: email, campaign: campaign) },
                                                   postgres: { store throws(AppealsError) in try await store.eraseSupporter(email: email, campaign: campaign) })
            print("erased \(email) from \(campaign): \(plural(report.lettersErased, "letter")) emptied, "
                  + "\(plural(report.lettersCancelled, "unsent letter")) cancelled, \(plural(report.repliesScrubbed, "stored server reply", "stored server replies")) cleaned")
            if let outbox = try? config.makeTransport() as? FileTransport {
                // A running send may be writing one of their messages at this very moment: let it finish first.
                if config.usesPostgres || SendRunLease.anyAlive(databasePath: config.database) { usleep(300_000) }
                print("removed \(plural(outbox.removeMessages(report.messageIds), "message file")) of theirs from the outbox \(outbox.folder)")
            }
            print("copies made earlier outside this database (exports, messages already sent, backups) are beyond its reach")
        }
    }
}
