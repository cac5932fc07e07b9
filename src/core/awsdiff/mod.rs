//! Pure AWS comparison logic (template, parameter, tag and policy diffs; drift with owner rules;
//! replacement estimates). Filled in by the AWS work (issue 4).
