#include "store/transaction_control.h"

#include <algorithm>
#include <array>
#include <vector>

namespace tessera::store {
namespace {

bool IsIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }

std::string Upper(std::string_view word) {
  std::string out(word);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

struct Token {
  enum Kind { kWord, kSemicolon, kOther, kEnd } kind = kEnd;
  std::string_view text;
  std::size_t pos = 0;
};

// Reads SQL tokens, skipping whitespace and comments; everything quoted is one kOther token.
class Lexer {
 public:
  explicit Lexer(std::string_view sql) : s_(sql) {}

  std::expected<Token, SqlScanError> Next() {
    if (auto skipped = SkipSpaceAndComments(); !skipped) return std::unexpected(skipped.error());
    if (i_ >= s_.size()) return Token{Token::kEnd, {}, i_};
    std::size_t start = i_;
    auto c = static_cast<unsigned char>(s_[i_]);
    if (c == ';') {
      ++i_;
      return Token{Token::kSemicolon, s_.substr(start, 1), start};
    }
    if (c == '\'') return Quoted(start, '\'', /*backslash=*/false);
    if (c == '"') return Quoted(start, '"', false);
    if (c == '$') return Dollar(start);
    if (IsIdentStart(c)) {
      while (i_ < s_.size() && IsIdentChar(static_cast<unsigned char>(s_[i_]))) ++i_;
      std::string word = Upper(s_.substr(start, i_ - start));
      // Prefixed string constants: E'..' (backslash escapes), B'..', X'..', N'..', U&'..'.
      if (i_ < s_.size() && s_[i_] == '\'' &&
          (word == "E" || word == "B" || word == "X" || word == "N")) {
        return Quoted(start, '\'', word == "E");
      }
      if (word == "U" && s_.substr(i_).starts_with("&'")) {
        ++i_;
        return Quoted(start, '\'', false);
      }
      if (word == "U" && s_.substr(i_).starts_with("&\"")) {
        ++i_;
        return Quoted(start, '"', false);
      }
      return Token{Token::kWord, s_.substr(start, i_ - start), start};
    }
    ++i_;
    return Token{Token::kOther, s_.substr(start, 1), start};
  }

 private:
  std::expected<void, SqlScanError> SkipSpaceAndComments() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++i_;
      } else if (s_.substr(i_).starts_with("--")) {
        std::size_t nl = s_.find('\n', i_);
        i_ = nl == std::string_view::npos ? s_.size() : nl + 1;
      } else if (s_.substr(i_).starts_with("/*")) {
        // Block comments nest in PostgreSQL.
        int depth = 0;
        do {
          if (s_.substr(i_).starts_with("/*")) {
            ++depth;
            i_ += 2;
          } else if (s_.substr(i_).starts_with("*/")) {
            --depth;
            i_ += 2;
          } else {
            ++i_;
          }
        } while (depth > 0 && i_ < s_.size());
        if (depth > 0) return std::unexpected(SqlScanError::kUnterminated);
      } else {
        break;
      }
    }
    return {};
  }

  // A quoted run starting at the opening quote s_[i_]; a doubled quote stands for itself.
  std::expected<Token, SqlScanError> Quoted(std::size_t start, char quote, bool backslash) {
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (backslash && c == '\\') {
        i_ += 2;
        continue;
      }
      ++i_;
      if (c == quote) {
        if (i_ < s_.size() && s_[i_] == quote) {
          ++i_;
          continue;
        }
        return Token{Token::kOther, s_.substr(start, i_ - start), start};
      }
    }
    return std::unexpected(SqlScanError::kUnterminated);
  }

  // $1 (a parameter), $tag$ ... $tag$ (a dollar quote), or a lone '$'.
  std::expected<Token, SqlScanError> Dollar(std::size_t start) {
    std::size_t j = i_ + 1;
    if (j < s_.size() && IsDigit(static_cast<unsigned char>(s_[j]))) {
      while (j < s_.size() && IsDigit(static_cast<unsigned char>(s_[j]))) ++j;
      i_ = j;
      return Token{Token::kOther, s_.substr(start, j - start), start};
    }
    if (j < s_.size() && IsIdentStart(static_cast<unsigned char>(s_[j]))) {
      while (j < s_.size() && (IsIdentStart(static_cast<unsigned char>(s_[j])) ||
                               IsDigit(static_cast<unsigned char>(s_[j])))) {
        ++j;
      }
    }
    if (j >= s_.size() || s_[j] != '$') {
      ++i_;
      return Token{Token::kOther, s_.substr(start, 1), start};
    }
    std::string_view delimiter = s_.substr(i_, j - i_ + 1);
    std::size_t close = s_.find(delimiter, j + 1);
    if (close == std::string_view::npos) return std::unexpected(SqlScanError::kUnterminated);
    i_ = close + delimiter.size();
    return Token{Token::kOther, s_.substr(start, i_ - start), start};
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

constexpr std::array<std::string_view, 7> kControl = {"BEGIN", "COMMIT",    "END",    "ROLLBACK",
                                                      "ABORT", "SAVEPOINT", "RELEASE"};

std::size_t LineOf(std::string_view sql, std::size_t pos) {
  return 1 + static_cast<std::size_t>(
                 std::count(sql.begin(), sql.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

// Whether the statement so far is CREATE [OR REPLACE] FUNCTION|PROCEDURE: only there does
// BEGIN ATOMIC open a body whose ';' end nothing.
bool IsRoutineHead(const std::vector<std::string>& words) {
  std::size_t i = 0;
  if (words.size() < 2 || words[0] != "CREATE") return false;
  i = 1;
  if (words.size() > 3 && words[1] == "OR" && words[2] == "REPLACE") i = 3;
  return words[i] == "FUNCTION" || words[i] == "PROCEDURE";
}

}  // namespace

std::expected<std::vector<SqlStatement>, SqlScanError> SplitStatements(std::string_view sql) {
  if (sql.size() > kMaxMigrationBytes) return std::unexpected(SqlScanError::kTooLarge);
  Lexer lexer(sql);
  std::vector<SqlStatement> out;
  std::optional<std::size_t> start;  // first token of the current statement
  std::vector<std::string> head;     // its first words, upper case (a few are enough)
  std::string previous;              // the previous word of this statement
  int atomic_depth = 0;              // inside CREATE FUNCTION ... BEGIN ATOMIC ... END
  auto finish = [&](std::size_t end) {
    if (start) {
      std::string_view text = sql.substr(*start, end - *start);
      out.push_back(SqlStatement{std::string(text), LineOf(sql, *start), head});
    }
    start.reset();
    head.clear();
    previous.clear();
  };
  for (;;) {
    auto token = lexer.Next();
    if (!token) return std::unexpected(token.error());
    if (token->kind == Token::kEnd) {
      finish(sql.size());
      return out;
    }
    if (token->kind == Token::kSemicolon && atomic_depth == 0) {
      finish(token->pos);
      continue;
    }
    if (!start) start = token->pos;
    if (token->kind != Token::kWord) {
      if (head.size() < 4) head.emplace_back();  // not a word: no keyword sequence goes on
      previous.clear();
      continue;
    }
    std::string word = Upper(token->text);
    if (word == "ATOMIC" && previous == "BEGIN" && IsRoutineHead(head)) {
      ++atomic_depth;
    } else if (atomic_depth > 0 && word == "CASE") {
      ++atomic_depth;
    } else if (atomic_depth > 0 && word == "END") {
      --atomic_depth;
    }
    if (head.size() < 4) head.push_back(word);
    previous = std::move(word);
  }
}

std::optional<TransactionControl> TransactionControlOf(const SqlStatement& statement) {
  const auto& words = statement.head;
  if (words.empty()) return std::nullopt;
  if (std::find(kControl.begin(), kControl.end(), words[0]) != kControl.end()) {
    return TransactionControl{statement.line, words[0]};
  }
  if (words.size() > 1 && words[1] == "TRANSACTION" &&
      (words[0] == "START" || words[0] == "PREPARE")) {
    return TransactionControl{statement.line, words[0] + " TRANSACTION"};
  }
  return std::nullopt;
}

std::expected<std::optional<TransactionControl>, SqlScanError> FindTransactionControl(
    std::string_view sql) {
  auto statements = SplitStatements(sql);
  if (!statements) return std::unexpected(statements.error());
  for (const SqlStatement& statement : *statements) {
    if (auto found = TransactionControlOf(statement)) return found;
  }
  return std::nullopt;
}

}  // namespace tessera::store
