#include "store/pg/records.h"

#include "names/userid.h"

namespace tessera::store::pg {

std::expected<GrantRecord, RowError> GrantFromRow(const RowReader::Row& row) {
  GrantRecord g;
  RowFields f;
  f.Take(row.Text("userid"), g.userid);
  f.Take(row.Int64("account_id"), g.account_id);
  f.Take(row.Bool("read"), g.read);
  f.Take(row.Bool("write"), g.write);
  f.Take(row.Bool("delete"), g.del);
  f.Take(row.OptionalText("repo"), g.repo);
  f.Take(row.Bool("revoked"), g.revoked);
  f.Take(row.Time("expires_at"), g.expires_at);
  f.Take(row.Text("name"), g.name);
  if (f.error()) return std::unexpected(*f.error());
  if (!names::IsValidUserid(g.userid)) return std::unexpected(RowError::kBadUserid);
  return g;
}

std::expected<AccountState, RowError> StateFromRow(const RowReader::Row& row) {
  AccountState state;
  RowFields f;
  f.Take(row.Bool("enabled"), state.enabled);
  f.Take(row.OptionalTime("expires_at"), state.expires_at);
  f.Take(row.Int64("session_epoch"), state.session_epoch);
  if (f.error()) return std::unexpected(*f.error());
  return state;
}

}  // namespace tessera::store::pg
