#include "smpp/command_status.hpp"

namespace smpp {

std::string_view name(command_status s) noexcept {
  switch (s) {
#define SMPP_STATUS_NAME(n) \
  case command_status::n:   \
    return #n;
    SMPP_STATUS_NAME(ESME_ROK)
    SMPP_STATUS_NAME(ESME_RINVMSGLEN)
    SMPP_STATUS_NAME(ESME_RINVCMDLEN)
    SMPP_STATUS_NAME(ESME_RINVCMDID)
    SMPP_STATUS_NAME(ESME_RINVBNDSTS)
    SMPP_STATUS_NAME(ESME_RALYBND)
    SMPP_STATUS_NAME(ESME_RINVPRTFLG)
    SMPP_STATUS_NAME(ESME_RINVREGDLVFLG)
    SMPP_STATUS_NAME(ESME_RSYSERR)
    SMPP_STATUS_NAME(ESME_RINVSRCADR)
    SMPP_STATUS_NAME(ESME_RINVDSTADR)
    SMPP_STATUS_NAME(ESME_RINVMSGID)
    SMPP_STATUS_NAME(ESME_RBINDFAIL)
    SMPP_STATUS_NAME(ESME_RINVPASWD)
    SMPP_STATUS_NAME(ESME_RINVSYSID)
    SMPP_STATUS_NAME(ESME_RCANCELFAIL)
    SMPP_STATUS_NAME(ESME_RREPLACEFAIL)
    SMPP_STATUS_NAME(ESME_RMSGQFUL)
    SMPP_STATUS_NAME(ESME_RINVSERTYP)
    SMPP_STATUS_NAME(ESME_RINVNUMDESTS)
    SMPP_STATUS_NAME(ESME_RINVDLNAME)
    SMPP_STATUS_NAME(ESME_RINVDESTFLAG)
    SMPP_STATUS_NAME(ESME_RINVSUBREP)
    SMPP_STATUS_NAME(ESME_RINVESMCLASS)
    SMPP_STATUS_NAME(ESME_RCNTSUBDL)
    SMPP_STATUS_NAME(ESME_RSUBMITFAIL)
    SMPP_STATUS_NAME(ESME_RINVSRCTON)
    SMPP_STATUS_NAME(ESME_RINVSRCNPI)
    SMPP_STATUS_NAME(ESME_RINVDSTTON)
    SMPP_STATUS_NAME(ESME_RINVDSTNPI)
    SMPP_STATUS_NAME(ESME_RINVSYSTYP)
    SMPP_STATUS_NAME(ESME_RINVREPFLAG)
    SMPP_STATUS_NAME(ESME_RINVNUMMSGS)
    SMPP_STATUS_NAME(ESME_RTHROTTLED)
    SMPP_STATUS_NAME(ESME_RINVSCHED)
    SMPP_STATUS_NAME(ESME_RINVEXPIRY)
    SMPP_STATUS_NAME(ESME_RINVDFTMSGID)
    SMPP_STATUS_NAME(ESME_RX_T_APPN)
    SMPP_STATUS_NAME(ESME_RX_P_APPN)
    SMPP_STATUS_NAME(ESME_RX_R_APPN)
    SMPP_STATUS_NAME(ESME_RQUERYFAIL)
    SMPP_STATUS_NAME(ESME_RINVOPTPARSTREAM)
    SMPP_STATUS_NAME(ESME_ROPTPARNOTALLWD)
    SMPP_STATUS_NAME(ESME_RINVPARLEN)
    SMPP_STATUS_NAME(ESME_RMISSINGOPTPARAM)
    SMPP_STATUS_NAME(ESME_RINVOPTPARAMVAL)
    SMPP_STATUS_NAME(ESME_RDELIVERYFAILURE)
    SMPP_STATUS_NAME(ESME_RUNKNOWNERR)
#undef SMPP_STATUS_NAME
  }
  return {};
}

status_verdict classify(command_status s) noexcept {
  using enum command_status;
  switch (s) {
    case ESME_ROK:
      return {status_class::success, false};
    case ESME_RTHROTTLED:
      return {status_class::temporary, true};
    // The SMSC or its queues are busy or broken right now; the message may
    // go through later (ESME_RX_T_APPN is the receiving application's
    // "temporary" verdict by definition).
    case ESME_RMSGQFUL:
    case ESME_RSYSERR:
    case ESME_RX_T_APPN:
    case ESME_RSUBMITFAIL:
    case ESME_RDELIVERYFAILURE:
    case ESME_RUNKNOWNERR:
    // Session-level refusals: the bind is in the wrong state, not the
    // message; it will succeed on a healthy bind.
    case ESME_RINVBNDSTS:
    case ESME_RALYBND:
    case ESME_RBINDFAIL:
      return {status_class::temporary, false};
    // Everything the specification defines as a fault of the message
    // itself (address, length, flags, TLVs, scheduling) is permanent:
    // sending the same PDU again gets the same answer.
    case ESME_RINVMSGLEN:
    case ESME_RINVCMDLEN:
    case ESME_RINVCMDID:
    case ESME_RINVPRTFLG:
    case ESME_RINVREGDLVFLG:
    case ESME_RINVSRCADR:
    case ESME_RINVDSTADR:
    case ESME_RINVMSGID:
    case ESME_RINVPASWD:
    case ESME_RINVSYSID:
    case ESME_RCANCELFAIL:
    case ESME_RREPLACEFAIL:
    case ESME_RINVSERTYP:
    case ESME_RINVNUMDESTS:
    case ESME_RINVDLNAME:
    case ESME_RINVDESTFLAG:
    case ESME_RINVSUBREP:
    case ESME_RINVESMCLASS:
    case ESME_RCNTSUBDL:
    case ESME_RINVSRCTON:
    case ESME_RINVSRCNPI:
    case ESME_RINVDSTTON:
    case ESME_RINVDSTNPI:
    case ESME_RINVSYSTYP:
    case ESME_RINVREPFLAG:
    case ESME_RINVNUMMSGS:
    case ESME_RINVSCHED:
    case ESME_RINVEXPIRY:
    case ESME_RINVDFTMSGID:
    case ESME_RX_P_APPN:
    case ESME_RX_R_APPN:
    case ESME_RQUERYFAIL:
    case ESME_RINVOPTPARSTREAM:
    case ESME_ROPTPARNOTALLWD:
    case ESME_RINVPARLEN:
    case ESME_RMISSINGOPTPARAM:
    case ESME_RINVOPTPARAMVAL:
      return {status_class::permanent, false};
  }
  return {status_class::temporary, false};
}

}  // namespace smpp
