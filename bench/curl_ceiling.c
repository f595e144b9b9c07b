/* libcurl alone, as appeal-cli drives it: one easy handle per connection, reused for every message,
   the same message each time, no database and no message building. What it reaches bounds `send`.

     curl_ceiling URL MESSAGES CONNECTIONS SIZE   ->   {"sent": N, "seconds": S}
*/
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *url;
static char *message;
static size_t message_size;
static long per_connection;
static long failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct upload { size_t offset; };

static size_t read_message(char *buffer, size_t size, size_t count, void *data) {
    struct upload *upload = data;
    size_t length = message_size - upload->offset;
    if (length > size * count) length = size * count;
    memcpy(buffer, message + upload->offset, length);
    upload->offset += length;
    return length;
}

static void *session(void *unused) {
    (void)unused;
    CURL *handle = curl_easy_init();
    struct curl_slist *recipients = curl_slist_append(NULL, "<target@example.org>");
    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_MAIL_FROM, "<appeals@example.org>");
    curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE, (long)message_size);
    for (long i = 0; i < per_connection; i++) {
        struct upload upload = {0};
        curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
        if (curl_easy_perform(handle) != CURLE_OK) {
            pthread_mutex_lock(&lock);
            failures++;
            pthread_mutex_unlock(&lock);
        }
    }
    curl_slist_free_all(recipients);
    curl_easy_cleanup(handle);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: curl_ceiling URL MESSAGES CONNECTIONS SIZE\n");
        return 2;
    }
    url = argv[1];
    long messages = atol(argv[2]), connections = atol(argv[3]);
    message_size = (size_t)atol(argv[4]);
    per_connection = messages / connections;
    const char *headers = "From: appeals@example.org\r\nTo: target@example.org\r\nSubject: ceiling\r\n\r\n";
    message = malloc(message_size + 1);
    size_t header_length = strlen(headers);
    memcpy(message, headers, header_length);
    for (size_t i = header_length; i < message_size; i++) message[i] = (i % 72 == 71) ? '\n' : 'x';
    curl_global_init(CURL_GLOBAL_ALL);
    pthread_t threads[64];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < connections && i < 64; i++) pthread_create(&threads[i], NULL, session, NULL);
    for (long i = 0; i < connections && i < 64; i++) pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("{\"sent\": %ld, \"failed\": %ld, \"seconds\": %.3f}\n", per_connection * connections - failures, failures, seconds);
    curl_global_cleanup();
    return failures > 0;
}
