//! The AWS adapter: the only module where AWS SDK types appear. Filled in by the AWS work (issue 4).
