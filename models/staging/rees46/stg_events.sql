with

source as (

    select * from {{ source('rees46', 'events') }}

),

ranked as (

    select
        *,
        count(*) over (partition by event_id) as copies_delivered,
        row_number() over (partition by event_id order by loaded_at, source_object) as copy_number
    from source

),

final as (

    select
        event_id,
        user_session as session_id,
        event_type,
        product_id,
        category_id,
        category_code,
        brand,
        user_id,
        cast(price as decimal(10, 2)) as price,
        copies_delivered,
        price < 0 as is_negative_price,
        price = 0 as is_zero_price,
        user_session is null as is_missing_session,
        cast(event_time as timestamp) as event_at,
        loaded_at
    from ranked
    where copy_number = 1

)

select * from final
